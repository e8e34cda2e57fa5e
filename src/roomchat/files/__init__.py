"""Uploaded files: what they are (sniff.py), their names (names.py), thumbnails
(thumbs.py), and the two file stores behind the domain's ``FileStore`` port: local
disk (local.py, the default) and S3-compatible object storage (s3.py)."""
