"""Share cards from `shamir split --cards`: a PNG and a PDF per share, written only where
asked, never over anything; the QR code (decoded with zxing-cpp) holds the share's words."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pypdf
import zxingcpp
from PIL import Image

from seedguard.mnemonic import slip39
from tests.conftest import run_cli

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"


def test_cards_hold_name_numbers_words_mode_and_a_qr_code(tmp_path: Path) -> None:
    folder = tmp_path / "cards"
    proc = run_cli(
        "shamir", "split", "--group", "2/2", "--group", "1/1", "--group-threshold", "1",
        "--cards", str(folder), "--name", "Ann", "--name", "Čeněk", "--name", "Safe box",
        "--json", stdin=f"{PHRASE}\n",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    made = json.loads(proc.stdout)
    shares = [s for group in made["groups"] for s in group]
    assert len(made["cards"]) == 6
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path, share, name, numbers in zip(
        made["cards"][1::2],
        shares,
        ["Ann", "Čeněk", "Safe box"],
        ["Group 1 of 2 (1 groups needed) · Share 1 of 2", "Share 2 of 2", "Group 2 of 2"],
        strict=True,
    ):
        pdf = Path(path)
        assert stat.S_IMODE(pdf.stat().st_mode) == 0o600
        text = pypdf.PdfReader(pdf).pages[0].extract_text()
        assert f"Guardian: {name}" in text
        assert "BIP39 MODE" in text
        assert numbers in text
        for i, word in enumerate(share.split(), 1):
            assert f"{i:>2}. {word}" in text
        image = Image.open(pdf.with_suffix(".png"))
        assert image.size == (1240, 1754)
        [code] = zxingcpp.read_barcodes(image)
        assert code.text == share
        assert slip39.decode(code.text).member_index >= 0


def test_cards_are_written_only_where_asked_and_never_over_anything(tmp_path: Path) -> None:
    args = ["shamir", "split", "--threshold", "2", "--shares", "2", "--json"]
    assert "cards" not in json.loads(run_cli(*args, stdin=f"{PHRASE}\n").stdout)
    folder = tmp_path / "cards"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    busy = run_cli(*args, "--cards", str(folder), stdin=f"{PHRASE}\n")
    assert busy.returncode == 2
    assert "not empty" in busy.stderr
    assert (folder / "keep.txt").read_text() == "mine"
    names = run_cli(*args, "--cards", str(tmp_path / "new"), "--name", "one",
                    stdin=f"{PHRASE}\n")  # fmt: skip
    assert names.returncode == 2
    assert "one --name per share (2)" in names.stderr
    assert not (tmp_path / "new").exists()


def test_shares_scanned_from_cards_combine(tmp_path: Path) -> None:
    folder = tmp_path / "cards"
    proc = run_cli("shamir", "split", "--threshold", "2", "--shares", "3", "--cards",
                   str(folder), "--json", stdin=f"{PHRASE}\n")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    # A photo is never a clean render: rotate it a little and save it as a JPEG.
    photo = tmp_path / "photo.jpg"
    Image.open(folder / "share-g1-m3.png").rotate(3, expand=True, fillcolor=255).convert(
        "RGB"
    ).save(photo, quality=85)
    back = run_cli("shamir", "combine", "--qr", str(folder / "share-g1-m1.png"), "--qr",
                   str(photo), "--json")  # fmt: skip
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout)["mnemonic"] == PHRASE
    blank = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(blank)
    failed = run_cli("shamir", "combine", "--qr", str(blank), "--json")
    assert failed.returncode == 1
    assert "found 0 share QR codes" in json.loads(failed.stdout)["error"]
