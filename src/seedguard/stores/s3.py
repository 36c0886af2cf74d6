"""S3-compatible object storage through boto3: AWS, MinIO, Cloudflare R2, Backblaze B2, Wasabi.

The endpoint, region and credentials come from the standard AWS configuration (profiles,
~/.aws/config, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...), never from seedguard's arguments.
In a bucket that keeps versions, `remove` deletes every version and delete marker of the
object, and `prune` every version but the current one, so an old envelope does not linger.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

from seedguard import extras
from seedguard.errors import BackupMissingError, StoreError
from seedguard.stores.base import MAX_OBJECT_BYTES, ObjectInfo, check_name, missing, too_large

_DENIED = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "AllAccessDisabled",
}


_AWS_SETTINGS = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)
_client_lock = threading.Lock()
_clients: dict[str, Any] = {}


def _shared_client() -> Any:
    """One client per process (they are thread-safe; making one takes ~100 ms). Every S3
    location uses the same standard AWS configuration, so they can share it."""
    # Keyed by the standard configuration, so a changed environment gets its own client.
    key = "\0".join(os.environ.get(name, "") for name in _AWS_SETTINGS)
    with _client_lock:
        if key not in _clients:
            import boto3  # imported on first use: boto3 takes a while to load
            from botocore.config import Config

            config = Config(
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 3, "mode": "standard"},
                max_pool_connections=16,
            )
            _clients[key] = boto3.session.Session().client("s3", config=config)
        return _clients[key]


class S3Store:
    def __init__(self, bucket: str, prefix: str) -> None:
        extras.require("s3")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.location = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            with self._errors("connect to"):
                self._client = _shared_client()
        return self._client

    def _key(self, name: str) -> str:
        check_name(name)
        return f"{self.prefix}/{name}" if self.prefix else name

    @contextlib.contextmanager
    def _errors(self, action: str, name: str | None = None) -> Iterator[None]:
        from botocore import exceptions as bx

        try:
            yield
        except bx.ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("NoSuchKey", "404", "NotFound") and name is not None:
                raise missing(name, self.location) from None
            if code == "NoSuchBucket" or (code in ("404", "NotFound") and name is None):
                raise StoreError(
                    f"The bucket {self.bucket!r} does not exist for these credentials: a typo, "
                    "another account, or another region/endpoint?"
                ) from None
            if code in _DENIED or code == "403":
                raise StoreError(
                    f"Access to {self.location} was refused ({code}): check the AWS credentials "
                    "and profile; is this the account that holds the backups?"
                ) from None
            raise StoreError(f"Could not {action} {self.location}: {code or 'error'}.") from None
        except bx.NoCredentialsError:
            raise StoreError(
                f"No S3 credentials were found for {self.location}: set them in ~/.aws/"
                "credentials, a profile (AWS_PROFILE) or the AWS_* environment variables."
            ) from None
        except (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError) as exc:
            raise StoreError(
                f"Could not reach the S3 endpoint for {self.location} (network trouble?): "
                f"{type(exc).__name__}."
            ) from None
        except bx.BotoCoreError as exc:
            raise StoreError(f"Could not {action} {self.location}: {type(exc).__name__}.") from None

    def save(self, name: str, data: bytes) -> None:
        key = self._key(name)
        with self._errors("write to"):
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType="application/octet-stream"
            )

    def load(self, name: str) -> bytes:
        key = self._key(name)
        with self._errors("read from", name):
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            data: bytes = response["Body"].read(MAX_OBJECT_BYTES + 1)
            response["Body"].close()
        if len(data) > MAX_OBJECT_BYTES:
            raise too_large(name, self.location)
        return data

    def names(self) -> list[str]:
        start = f"{self.prefix}/" if self.prefix else ""
        names: list[str] = []
        with self._errors("list"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=start, Delimiter="/"
            )
            for page in pages:
                names.extend(item["Key"][len(start) :] for item in page.get("Contents", []))
        return sorted(names)

    def _versions(self, key: str) -> list[tuple[str, bool]]:
        """(version id, is latest) of every version and delete marker of exactly `key`."""
        found: list[tuple[str, bool]] = []
        pages = self.client.get_paginator("list_object_versions").paginate(
            Bucket=self.bucket, Prefix=key
        )
        for page in pages:
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                if item["Key"] == key:
                    found.append((str(item["VersionId"]), bool(item.get("IsLatest"))))
        return found

    def _delete_versions(self, key: str, keep_latest: bool) -> None:
        for version, latest in self._versions(key):
            if keep_latest and latest:
                continue
            if version == "null":  # the unversioned object, or one from before versioning
                self.client.delete_object(Bucket=self.bucket, Key=key, VersionId="null")
            else:
                self.client.delete_object(Bucket=self.bucket, Key=key, VersionId=version)

    def remove(self, name: str) -> None:
        key = self._key(name)
        with self._errors("delete from"):
            self._delete_versions(key, keep_latest=False)
            self.client.delete_object(Bucket=self.bucket, Key=key)
            # That plain delete leaves a delete marker in a versioned bucket: take it too.
            self._delete_versions(key, keep_latest=False)

    def prune(self, name: str) -> None:
        key = self._key(name)
        with self._errors("delete old versions from"):
            self._delete_versions(key, keep_latest=True)

    def stat(self, name: str) -> ObjectInfo | None:
        key = self._key(name)
        try:
            with self._errors("read from", name):
                head = self.client.head_object(Bucket=self.bucket, Key=key)
        except BackupMissingError:
            return None
        return ObjectInfo(name, int(head["ContentLength"]))
