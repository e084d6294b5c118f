"""Multipart uploads through botocore: those a killed process left behind on S3, listed and aborted past an age,
and objects composed of byte ranges of others by S3 itself (UploadPartCopy: a resumable upload's chunks).

obstore aborts its own upload when a write raises, but a process killed mid-upload
(SIGKILL, a lost host) leaves the upload open: its parts take space, invisible to
listings, until someone aborts it. obstore has no call to list or abort uploads,
and does not tell us an upload's id, so recording ids as uploads start is not open
to us; S3's ListMultipartUploads also finds uploads of any process, whenever it
died. botocore (the AWS SDK's core, so signing and errors are the SDK's) makes the
calls (obstore has no UploadPartCopy either); it is imported only here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from app.storage.errors import StoreMisconfigured, StoreUnavailable

#: Parts S3 is asked to copy at once while an object is composed (each is one request the store carries out).
COPY_CONCURRENCY = 8
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
    from botocore.exceptions import ClientError

    aborted = 0
    with _translated("listing multipart uploads"):
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
    return aborted


def copy_parts(s3: Any, bucket: str, key: str, parts: list[tuple[str, int, int]], *, content_type: str) -> None:
    """Make `key` of byte ranges of other objects of `bucket` by a multipart upload whose parts S3 copies itself
    (UploadPartCopy), COPY_CONCURRENCY at a time; the upload is aborted if a part fails. No parts: an empty object."""
    with _translated("composing an object"):
        if not parts:
            s3.put_object(Bucket=bucket, Key=key, Body=b"", ContentType=content_type)
            return
        upload = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType=content_type)["UploadId"]
        try:

            def copy(numbered: tuple[int, tuple[str, int, int]]) -> dict[str, Any]:
                number, (source, start, end) = numbered
                answer = s3.upload_part_copy(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload,
                    PartNumber=number,
                    CopySource={"Bucket": bucket, "Key": source},
                    CopySourceRange=f"bytes={start}-{end - 1}",
                )
                return {"ETag": answer["CopyPartResult"]["ETag"], "PartNumber": number}

            with ThreadPoolExecutor(COPY_CONCURRENCY) as pool:
                done = list(pool.map(copy, enumerate(parts, start=1)))
            s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": done})
        except BaseException:
            with contextlib.suppress(Exception):  # one the store cannot be told to abort: the cleanup job's
                s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload)
            raise


@contextlib.contextmanager
def _translated(doing: str) -> Iterator[None]:
    """botocore's errors as ours: a setting the store refuses, or the store unavailable."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in MISCONFIGURED:
            raise StoreMisconfigured(f"{doing} was refused ({code}): check the S3 settings") from None
        raise StoreUnavailable(f"the data store did not answer: {code or exc}") from None
    except BotoCoreError as exc:
        raise StoreUnavailable(f"the data store did not answer: {exc}") from None
