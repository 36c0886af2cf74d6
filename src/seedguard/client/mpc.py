"""The device's calls to a seedguard server's MPC routes (docs/api.md, "MPC wallets")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seedguard.client.session import ServerClient, b64, client_for, unb64


def _int(text: Any, what: str) -> int:
    return int.from_bytes(unb64(text, what), "big")


def _scalar(value: int) -> str:
    return b64(value.to_bytes(32, "big"))


def _proofs(proofs: dict[int, bytes]) -> dict[str, str]:
    return {str(i): b64(p) for i, p in proofs.items()}


class MpcServer:
    """One server, as this device's account there."""

    def __init__(self, server: str, home: Path | None = None) -> None:
        self.client: ServerClient = client_for(server, home)

    @property
    def server(self) -> str:
        return self.client.server

    def _post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return dict(self.client.request("POST", path, json=body or {}).json())

    def create(self, raw_signing: bool = False) -> tuple[str, bytes]:
        answer = self._post("/v1/mpc/wallets", {"raw_signing": raw_signing})
        return str(answer["wallet_id"]), unb64(answer["server_hostpubkey"], "host key")

    def dkg_round1(self, wallet_id: str, hostpubkeys: list[bytes]) -> bytes:
        body = {"hostpubkeys": [b64(k) for k in hostpubkeys]}
        return unb64(self._post(f"/v1/mpc/wallets/{wallet_id}/dkg/1", body)["message"], "message")

    def dkg_round2(self, wallet_id: str, cmsg1: bytes) -> bytes:
        answer = self._post(f"/v1/mpc/wallets/{wallet_id}/dkg/2", {"message": b64(cmsg1)})
        return unb64(answer["message"], "message")

    def dkg_finalize(self, wallet_id: str, cmsg2: bytes) -> dict[str, Any]:
        return self._post(f"/v1/mpc/wallets/{wallet_id}/dkg/3", {"message": b64(cmsg2)})

    def wallet(self, wallet_id: str) -> dict[str, Any]:
        return dict(self.client.request("GET", f"/v1/mpc/wallets/{wallet_id}").json())

    def nonces(self, wallet_id: str, count: int) -> tuple[list[str], list[bytes], int]:
        """(nonce ids, the server's public nonces, the server's epoch): up to 16 at once."""
        answer = self._post(f"/v1/mpc/wallets/{wallet_id}/nonces", {"count": count})
        items = answer["nonces"]
        return (
            [str(n["nonce_id"]) for n in items],
            [unb64(n["pubnonce"], "pubnonce") for n in items],
            int(answer["epoch"]),
        )

    def nonce(self, wallet_id: str) -> tuple[str, bytes, int]:
        """(nonce id, the server's public nonce, the server's epoch)."""
        answer = self._post(f"/v1/mpc/wallets/{wallet_id}/nonces", {"count": 1})
        first = answer["nonces"][0]
        return str(first["nonce_id"]), unb64(first["pubnonce"], "pubnonce"), int(answer["epoch"])

    def sign(
        self,
        wallet_id: str,
        nonce_id: str,
        message: bytes,
        pubnonce: bytes,
        path: tuple[int, int] | None = None,
    ) -> bytes:
        body: dict[str, Any] = {
            "nonce_id": nonce_id,
            "message": b64(message),
            "pubnonce": b64(pubnonce),
        }
        if path is not None:
            body["path"] = list(path)
        return unb64(self._post(f"/v1/mpc/wallets/{wallet_id}/sign", body)["psig"], "psig")

    def sign_psbt(
        self,
        wallet_id: str,
        psbt_base64: str,
        inputs: list[tuple[int, str, bytes]],
        sighashes: dict[int, bytes] | None = None,
    ) -> dict[int, bytes]:
        """The server's partial signatures for these inputs of the PSBT, by input index; the
        server recomputes every sighash and applies the wallet's policy (PendingError when
        the spend waits for the delay). With `sighashes` (what the device computed and the
        user confirmed), the server refuses an input whose sighash it computes differently."""
        items: list[dict[str, Any]] = []
        for index, nonce_id, pubnonce in inputs:
            item: dict[str, Any] = {"index": index, "nonce_id": nonce_id, "pubnonce": b64(pubnonce)}
            if sighashes and index in sighashes:
                item["sighash"] = b64(sighashes[index])
            items.append(item)
        body = {"psbt": psbt_base64, "inputs": items}
        answer = self._post(f"/v1/mpc/wallets/{wallet_id}/psbt/sign", body)
        return {int(x["index"]): unb64(x["psig"], "psig") for x in answer["psigs"]}

    def policy(self, wallet_id: str) -> dict[str, Any]:
        return dict(self.client.request("GET", f"/v1/mpc/wallets/{wallet_id}/policy").json())

    def set_policy(self, wallet_id: str, policy: dict[str, Any]) -> dict[str, Any]:
        path = f"/v1/mpc/wallets/{wallet_id}/policy"
        return dict(self.client.request("PUT", path, json=policy).json())

    def challenge(self, wallet_id: str) -> tuple[bytes, int]:
        """A one-use challenge for this session's share proofs, and the server's epoch."""
        answer = self._post(f"/v1/mpc/wallets/{wallet_id}/challenge")
        return unb64(answer["challenge"], "challenge"), int(answer["epoch"])

    def repair(
        self,
        wallet_id: str,
        target: int,
        delta: int,
        commitment: bytes,
        challenge: bytes,
        proofs: dict[int, bytes],
        password: tuple[bytes, bytes] | None = None,
        recovery_proof: bytes | None = None,
    ) -> tuple[int, int, bytes, str | None]:
        """(the server's delta for this helper, its sigma, the commitment to the delta it
        kept, how the cloud gate was passed)."""
        body: dict[str, Any] = {
            "target": target,
            "delta": _scalar(delta),
            "commitment": b64(commitment),
            "challenge": b64(challenge),
            "proofs": _proofs(proofs),
            "password": None
            if password is None
            else {"handle": b64(password[0]), "proof": b64(password[1])},
            "recovery_proof": None if recovery_proof is None else b64(recovery_proof),
        }
        answer = self._post(f"/v1/mpc/wallets/{wallet_id}/repair", body)
        return (
            _int(answer["delta"], "delta"),
            _int(answer["sigma"], "sigma"),
            unb64(answer["commitment"], "commitment"),
            answer.get("gate"),
        )

    def refresh(
        self,
        wallet_id: str,
        commitment: tuple[bytes, ...],
        share_for_server: int,
        challenge: bytes,
        proofs: dict[int, bytes],
    ) -> tuple[list[bytes], dict[int, int], int]:
        body = {
            "commitment": [b64(c) for c in commitment],
            "share": _scalar(share_for_server),
            "challenge": b64(challenge),
            "proofs": _proofs(proofs),
        }
        answer = self._post(f"/v1/mpc/wallets/{wallet_id}/refresh", body)
        shares = {int(k): _int(v, "share") for k, v in answer["shares"].items()}
        return [unb64(c, "commitment") for c in answer["commitment"]], shares, int(answer["epoch"])

    def link_cloud(
        self,
        wallet_id: str,
        challenge: bytes,
        proofs: dict[int, bytes],
        handle: bytes | None,
        recovery_verifier: bytes | None,
    ) -> None:
        body = {
            "challenge": b64(challenge),
            "proofs": _proofs(proofs),
            "handle": None if handle is None else b64(handle),
            "recovery_verifier": None if recovery_verifier is None else b64(recovery_verifier),
        }
        self.client.request("PUT", f"/v1/mpc/wallets/{wallet_id}/cloud", json=body)

    def commit_refresh(self, wallet_id: str, epoch: int) -> int:
        body = {"epoch": epoch}
        return int(self._post(f"/v1/mpc/wallets/{wallet_id}/refresh/commit", body)["epoch"])
