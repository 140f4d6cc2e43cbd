"""``s3://bucket/prefix``: a bucket (or a folder of one) on AWS S3 or an S3-compatible store
(MinIO, Ceph, moto: ``endpoint_url``), through boto3.

The listing is ``ListObjectsV2``, a thousand keys a request; an object's version is its
ETag, so an unchanged bucket costs the listing alone. Keys ending in "/" (folder markers) are
not documents. Credentials: ``access_key_env``/``secret_key_env`` (or ``_file``) name where
the keys are; without them boto3's own chain applies (``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY``, ``~/.aws``, an instance role). boto3's own retries are off: the
product's retry policy (``search.sources.retry``) decides, for every store alike.
(s3fs would pin an older botocore than the one MLflow's artifact store and Dagster use here.)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit

from search.sources.model import Known, RemoteObject, SourceError
from search.sources.retry import FATAL, OBJECT, TRANSIENT, RetryPolicy, call
from search.sources.secrets import read_secret, secret_options

OPTIONS = {
    "endpoint_url": "an S3-compatible endpoint, e.g. http://minio.internal:9000 (default: AWS)",
    "region": "the bucket's region (default: boto3's, else us-east-1)",
    **secret_options("access_key", "secret_key", "session_token"),
}
_OBJECT_CODES = {"NoSuchKey", "404", "NotFound", "AccessDenied", "403", "InvalidObjectState"}
_FATAL_CODES = {
    "NoSuchBucket",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "403",
    "AllAccessDisabled",
    "InvalidBucketName",
}


def bucket_and_prefix(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    if not parts.netloc:
        raise SourceError(f"{url}: name the bucket, s3://bucket/optional/prefix")
    prefix = parts.path.strip("/")
    return parts.netloc, f"{prefix}/" if prefix else ""


def _classify(exc: BaseException, listing: bool) -> str:
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(
        exc,
        EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError | ConnectionClosedError,
    ):
        return TRANSIENT
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return FATAL
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if status >= 500 or status == 429 or code in ("SlowDown", "Throttling", "RequestTimeout"):
            return TRANSIENT
        if listing and code in _FATAL_CODES:
            return FATAL
        return OBJECT if code in _OBJECT_CODES or not listing else FATAL
    return TRANSIENT if isinstance(exc, ConnectionError | TimeoutError) else ""


class S3Connector:
    def __init__(
        self, url: str, options: Mapping[str, str], environ: Mapping[str, str], retry: RetryPolicy
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket, self.prefix = bucket_and_prefix(url)
        self.retry = retry
        config = Config(
            retries={"max_attempts": 1, "mode": "standard"},  # the product's policy retries
            connect_timeout=retry.timeout,
            read_timeout=retry.timeout,
            max_pool_connections=32,
        )
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=options.get("endpoint_url") or None,
            region_name=options.get("region") or None,
            aws_access_key_id=read_secret(options, "access_key", environ),
            aws_secret_access_key=read_secret(options, "secret_key", environ),
            aws_session_token=read_secret(options, "session_token", environ),
            config=config,
        )

    def _url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def objects(self, known: Mapping[str, Known]) -> Iterator[RemoteObject]:
        token = None
        what = f"listing {self._url(self.prefix)}"
        while True:
            kwargs = {"Bucket": self.bucket, "Prefix": self.prefix, "MaxKeys": 1000}
            if token:
                kwargs["ContinuationToken"] = token
            page = call(
                lambda kwargs=kwargs: self.client.list_objects_v2(**kwargs),
                self.retry,
                lambda exc: _classify(exc, listing=True),
                what,
                default=FATAL,
            )
            for item in page.get("Contents", []):
                key = item["Key"]
                if key.endswith("/"):
                    continue  # a folder marker
                yield RemoteObject(
                    key[len(self.prefix) :],
                    str(item.get("ETag", "")).strip('"')
                    or f"{item['Size']}-{item['LastModified']}",
                    url=self._url(key),
                    size=int(item["Size"]),
                    modified=item["LastModified"].timestamp(),
                )
            if not page.get("IsTruncated"):
                return
            token = page["NextContinuationToken"]

    def fetch(self, obj: RemoteObject) -> bytes:
        key = self.prefix + obj.path

        def read() -> bytes:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

        return call(read, self.retry, lambda exc: _classify(exc, listing=False), obj.url)

    def close(self) -> None:
        self.client.close()
