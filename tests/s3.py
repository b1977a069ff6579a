"""Storage options for django-storages' S3 backend against moto's server (the suite's S3 stand-in)."""


def s3_test_options(*, endpoint: str, bucket: str) -> dict:
    return {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "access_key": "test",
        "secret_key": "test",
        "region_name": "us-east-1",
        "signature_version": "s3v4",
        "addressing_style": "path",
        "default_acl": None,
        "file_overwrite": True,
    }
