"""Multipart uploads a killed process left behind on S3: listed and aborted past an age, through botocore.

obstore aborts its own upload when a write raises, but a process killed mid-upload
(SIGKILL, a lost host) leaves the upload open: its parts take space, invisible to
listings, until someone aborts it. obstore has no call to list or abort uploads,
and does not tell us an upload's id, so recording ids as uploads start is not open
to us; S3's ListMultipartUploads also finds uploads of any process, whenever it
died. botocore (the AWS SDK's core, so signing and errors are the SDK's) makes the
two calls; it is imported only here, by the cleanup job.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.storage.errors import StoreMisconfigured, StoreUnavailable

#: S3 error codes that mean a setting is wrong, not that the store is down.
MISCONFIGURED = frozenset({"NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"})


def client(env: Mapping[str, str]) -> Any:
    """A botocore S3 client from the standard AWS variables (path-style with a custom endpoint, as obstore)."""
    import botocore.session
    from botocore.config import Config

    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    options: dict[str, Any] = {}
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        options.update(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=env.get("AWS_SESSION_TOKEN") or None,
        )
    config = Config(
        connect_timeout=3,
        read_timeout=60,
        retries={"max_attempts": 3, "mode": "standard"},
        s3={"addressing_style": "path"} if endpoint else None,
    )
    return botocore.session.get_session().create_client(
        "s3",
        region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        endpoint_url=endpoint or None,
        config=config,
        **options,
    )


def abort_stale(s3: Any, bucket: str, prefix: str, *, before: datetime) -> int:
    """Abort every multipart upload under `prefix` started before `before`; returns how many were aborted.

    An upload another cleanup aborted first (NoSuchUpload) is not an error: scheduler replicas may race.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    aborted = 0
    try:
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix):
            for upload in page.get("Uploads") or []:
                if upload["Initiated"] >= before:
                    continue
                try:
                    s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                        raise
                else:
                    aborted += 1
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in MISCONFIGURED:
            raise StoreMisconfigured(f"listing multipart uploads was refused ({code}): check the S3 settings") from None
        raise StoreUnavailable(f"the data store did not answer: {code or exc}") from None
    except BotoCoreError as exc:
        raise StoreUnavailable(f"the data store did not answer: {exc}") from None
    return aborted
