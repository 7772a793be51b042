"""An S3 mirror of converted benchmarks: upload once, download instead of converting again.

A mirror is a URL ``s3://bucket/prefix``; benchmark ``name`` lives under ``s3://bucket/prefix/name/`` in the
on-disk format of ``storage.py`` (``hyperparameters.parquet``, ``objectives.npy``, ``metadata.json``).

- Uploads write the data files first and ``metadata.json`` last: a benchmark counts as present only once its
  metadata is there, so an interrupted upload is never taken for a complete one.
- Downloads go to a temporary directory that is renamed into place only after every data file matched the
  SHA-256 recorded in the downloaded ``metadata.json``; a mismatch raises ``ChecksumError`` and leaves nothing.

Credentials come from the standard AWS chain (environment, ``~/.aws``, instance roles) via s3fs/botocore.
Another endpoint (MinIO, Ceph, a local test server) is taken from ``AWS_ENDPOINT_URL_S3`` or
``AWS_ENDPOINT_URL``, which botocore reads by itself. s3fs is an optional extra: ``pip install
'hpo-workbench[s3]'``.

Command line::

    python -m blackbox_repository.mirror list --url s3://bucket/prefix
    python -m blackbox_repository.mirror upload NAME_OR_DIR... --url s3://bucket/prefix
    python -m blackbox_repository.mirror download NAME... --url s3://bucket/prefix [--cache-dir DIR]
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from blackbox_repository.atomic import sha256_file, write_directory_atomic
from blackbox_repository.cli import OneLineErrorParser
from blackbox_repository.errors import BlackboxError, ChecksumError
from blackbox_repository.locations import MIRROR_ENV, benchmark_dir, default_cache_dir
from blackbox_repository.progress import tqdm
from blackbox_repository.storage import DATA_FILES, METADATA_FILE, verify_checksums, write_verified_stamp

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'hpo-workbench[s3]'"
ENDPOINT_ENVS = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")

_URL = re.compile(r"s3://(?P<bucket>[a-z0-9][a-z0-9._-]{1,61}[a-z0-9])(?P<prefix>(/[^/]+)*)/?")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+=-]*")


class S3Mirror:
    """Benchmarks stored under ``s3://bucket/prefix``; s3fs is imported on first remote access."""

    def __init__(self, url: str, *, progress: bool = True) -> None:
        match = _URL.fullmatch(url.strip()) if isinstance(url, str) else None
        if match is None:
            raise BlackboxError(
                f"bad mirror URL {url!r}: expected s3://bucket or s3://bucket/prefix (bucket: 3-63 lowercase "
                "letters, digits, dots or hyphens)"
            )
        self.bucket = match["bucket"]
        self.prefix = match["prefix"].strip("/")
        self.root = f"{self.bucket}/{self.prefix}" if self.prefix else self.bucket
        self.url = f"s3://{self.root}"
        self.progress = progress
        self._fs: Any = None
        self._pid = 0

    def __repr__(self) -> str:
        return f"S3Mirror({self.url!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_fs": None}  # a worker process connects on its own

    # Public API -------------------------------------------------------------------------------------

    def list(self) -> list[str]:
        """Names of the benchmarks in the mirror (those whose ``metadata.json`` is uploaded)."""
        fs = self._filesystem()
        names = set()
        with self._errors("listing"):
            fs.invalidate_cache()
            for path in fs.find(self.root):
                parts = path[len(self.root) + 1 :].split("/") if path.startswith(self.root + "/") else []
                if len(parts) == 2 and parts[1] == METADATA_FILE and _NAME.fullmatch(parts[0]):
                    names.add(parts[0])
        return sorted(names)

    def exists(self, name: str) -> bool:
        """Whether ``name`` is completely uploaded (its ``metadata.json`` is present)."""
        fs = self._filesystem()
        key = self._key(name, METADATA_FILE)
        with self._errors(f"looking up {name!r}"):
            fs.invalidate_cache()
            try:
                fs.info(key)
            except FileNotFoundError:
                if self._bucket_missing():
                    raise
                return False
        return True

    def upload(self, local_dir: Path | str, name: str | None = None) -> str:
        """Upload the benchmark directory ``local_dir`` (``name``, if given, must be the stored name).

        Local checksums are verified first; data files go up before ``metadata.json``. An identical copy
        already in the mirror is left alone. Returns the benchmark's URL.
        """
        local_dir = Path(local_dir)
        metadata = _read_local_metadata(local_dir)
        stored_name = metadata.get("name") or local_dir.name
        name = _check_name(name if name is not None else stored_name)
        if name != stored_name:
            raise BlackboxError(f"{local_dir} holds benchmark {stored_name!r}; it cannot be uploaded as {name!r}")
        files = _data_files(metadata, f"{local_dir / METADATA_FILE}")
        verify_checksums(local_dir, files)
        fs = self._filesystem()
        url = f"s3://{self._key(name)}"
        with self._errors(f"upload of {name!r}"):
            fs.invalidate_cache()
            remote = self._remote_metadata(name)
            if remote is not None:
                if remote.get("files") == files:
                    logger.info("%s is already in the mirror with the same checksums; not uploading", url)
                    return url
                logger.warning("%s exists with other data; replacing it", url)
                fs.rm_file(self._key(name, METADATA_FILE))  # incomplete (unlisted) until the new metadata is up
            total = sum((local_dir / file).stat().st_size for file in files)
            with self._bar(total, f"upload {name}") as callback:
                for file in files:
                    fs.put_file(str(local_dir / file), self._key(name, file), callback=callback)
            fs.put_file(str(local_dir / METADATA_FILE), self._key(name, METADATA_FILE))
            fs.invalidate_cache()
        logger.info("uploaded %s to %s", local_dir, url)
        return url

    def download(self, name: str, dest_dir: Path | str) -> Path:
        """Download ``name`` into ``dest_dir / name`` atomically; returns that directory.

        Every data file must match the SHA-256 in the downloaded ``metadata.json``, otherwise
        ``ChecksumError`` is raised and nothing is written (an existing ``dest_dir / name`` is kept).
        """
        name = _check_name(name)
        target = Path(dest_dir) / name
        fs = self._filesystem()
        url = f"s3://{self._key(name)}"
        with self._errors(f"download of {name!r}"):
            fs.invalidate_cache()
            raw = self._remote_metadata_bytes(name)
            if raw is None:
                raise BlackboxError(f"benchmark {name!r} is not in the mirror {self.url} (no {url}/{METADATA_FILE})")
            try:
                metadata = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                raise ChecksumError(f"{url}/{METADATA_FILE} is not valid JSON ({error}); upload it again") from None
            files = _data_files(metadata, f"{url}/{METADATA_FILE}")
            if metadata.get("name") not in (None, name):
                raise BlackboxError(f"{url} holds benchmark {metadata['name']!r}, not {name!r}; upload it again")
            sizes = {}
            for file in files:
                try:
                    sizes[file] = fs.info(self._key(name, file))["size"]
                except FileNotFoundError:
                    raise ChecksumError(f"{url}/{file} is missing from the mirror; upload {name!r} again") from None

            def fill(tmp: Path) -> None:
                (tmp / METADATA_FILE).write_bytes(raw)
                with self._bar(sum(sizes.values()), f"download {name}") as callback:
                    for file, sha in files.items():
                        fs.get_file(self._key(name, file), str(tmp / file), callback=callback)
                        actual = sha256_file(tmp / file)
                        if actual != sha:
                            raise ChecksumError(
                                f"{url}/{file} is corrupt in the mirror (sha256 {actual[:12]}…, expected "
                                f"{sha[:12]}…); nothing was written, upload {name!r} again"
                            )
                write_verified_stamp(tmp, files)  # verified just now: loading need not hash again

            write_directory_atomic(target, fill)
        logger.info("downloaded %s to %s", url, target)
        return target

    # Internals --------------------------------------------------------------------------------------

    def _key(self, name: str, file: str | None = None) -> str:
        key = f"{self.root}/{_check_name(name)}"
        return f"{key}/{file}" if file else key

    def _filesystem(self) -> Any:
        if self._fs is None or self._pid != os.getpid():  # s3fs instances are not fork-safe
            try:
                import s3fs
            except ImportError:
                raise BlackboxError(f"the S3 mirror {self.url} needs s3fs: {INSTALL_HINT}") from None
            # a fresh instance (not fsspec's shared one) so that endpoint/credential variables set since
            # the last mirror was made take effect; botocore reads AWS_ENDPOINT_URL(_S3) itself
            self._fs = s3fs.S3FileSystem(skip_instance_cache=True)
            self._pid = os.getpid()
        return self._fs

    def _remote_metadata_bytes(self, name: str) -> bytes | None:
        try:
            return self._fs.cat_file(self._key(name, METADATA_FILE))
        except FileNotFoundError:
            if self._bucket_missing():
                raise
            return None

    def _remote_metadata(self, name: str) -> dict[str, Any] | None:
        raw = self._remote_metadata_bytes(name)
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {}

    def _bucket_missing(self) -> bool:
        try:
            self._fs.call_s3("head_bucket", Bucket=self.bucket)
        except FileNotFoundError:
            return True
        except Exception:  # no permission to ask, or another failure: not known to be missing
            return False
        return False

    @contextlib.contextmanager
    def _bar(self, total: int, description: str) -> Iterator[Any]:
        from fsspec.callbacks import Callback

        with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=description,
                  disable=not self.progress, leave=False) as bar:

            class _Progress(Callback):
                def set_size(self, size: int | None) -> None:  # the bar counts every file together
                    pass

                def relative_update(self, inc: int = 1) -> None:
                    bar.update(inc)

            yield _Progress()

    @contextlib.contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn s3fs/botocore failures into one-line ``BlackboxError``s naming the URL and what to check."""
        try:
            yield
        except BlackboxError:
            raise
        except Exception as error:
            translated = self._translate(error, action)
            if translated is None:
                raise
            raise translated from None

    def _translate(self, error: Exception, action: str) -> BlackboxError | None:
        from botocore import exceptions as bx

        where = f"S3 mirror {self.url}: {action} failed"
        if isinstance(error, bx.NoCredentialsError | bx.PartialCredentialsError | bx.CredentialRetrievalError):
            return BlackboxError(
                f"{where}: no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or "
                "AWS_PROFILE, or run `aws configure`"
            )
        if isinstance(error, bx.EndpointConnectionError | bx.ConnectTimeoutError | bx.ProxyConnectionError):
            return BlackboxError(
                f"{where}: cannot reach the S3 endpoint {self._endpoint()}; check the network and "
                f"{' / '.join(ENDPOINT_ENVS)}"
            )
        if isinstance(error, FileNotFoundError) and self._bucket_missing():
            return BlackboxError(
                f"{where}: bucket {self.bucket!r} does not exist at {self._endpoint()}; create it or check the URL "
                f"and {' / '.join(ENDPOINT_ENVS)}"
            )
        if isinstance(error, PermissionError):
            return BlackboxError(
                f"{where}: access denied ({_one_line(error)}); check the credentials (AWS_PROFILE, "
                "AWS_ACCESS_KEY_ID) and the bucket's permissions"
            )
        if isinstance(error, OSError | bx.BotoCoreError | bx.ClientError | TimeoutError):
            return BlackboxError(f"{where}: {type(error).__name__}: {_one_line(error)}")
        return None

    def _endpoint(self) -> str:
        client = getattr(self._fs, "_s3", None)  # the connected client, if any (``.s3`` would connect)
        if client is not None:
            return str(client.meta.endpoint_url)
        for env in ENDPOINT_ENVS:
            if os.environ.get(env):
                return os.environ[env]
        return "the default AWS endpoint"


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise BlackboxError(
            f"invalid benchmark name {name!r}: use letters, digits and . _ - + = (no slashes, not starting with .)"
        )
    return name


def _read_local_metadata(directory: Path) -> dict[str, Any]:
    path = directory / METADATA_FILE
    if not path.is_file():
        raise BlackboxError(f"no benchmark at {directory}: {METADATA_FILE} is missing")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ChecksumError(f"{path} is not valid JSON ({error}); the benchmark is corrupt") from None


def _data_files(metadata: dict[str, Any], where: str) -> dict[str, str]:
    """The ``files`` entry of a metadata.json: data file name -> SHA-256 (validated, no paths)."""
    files = metadata.get("files") if isinstance(metadata, dict) else None
    valid = isinstance(files, dict) and set(files) == set(DATA_FILES)
    if not valid or not all(isinstance(sha, str) for sha in files.values()):
        raise ChecksumError(f"{where} does not list the SHA-256 of {' and '.join(DATA_FILES)}; it is corrupt")
    return {file: files[file] for file in DATA_FILES}


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text[:300] or type(error).__name__


# Command line ------------------------------------------------------------------------------------



def main(argv: Sequence[str] | None = None) -> int:
    """Command line: list, upload or download benchmarks of an S3 mirror; returns the exit code."""
    parser = OneLineErrorParser(
        prog="python -m blackbox_repository.mirror",
        description="Keep converted benchmarks in an S3 mirror (s3://bucket/prefix). Endpoint: AWS_ENDPOINT_URL_S3 "
        "or AWS_ENDPOINT_URL; credentials: the standard AWS chain.",
        allow_abbrev=False,
    )
    parser.add_argument("command", choices=("list", "upload", "download"))
    parser.add_argument(
        "names", nargs="*", metavar="NAME",
        help="benchmark names (upload: also a benchmark directory); download with no name: everything",
    )
    parser.add_argument("--url", default=os.environ.get(MIRROR_ENV), help=f"mirror URL (default: ${MIRROR_ENV})")
    parser.add_argument("--cache-dir", type=Path, help="benchmark cache (default: $HPO_BLACKBOX_CACHE or ~/.cache)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if not args.url:
        parser.error(f"no mirror: pass --url s3://bucket/prefix or set {MIRROR_ENV}")
    if args.command == "list" and args.names:
        parser.error("list takes no names")
    if args.command == "upload" and not args.names:
        parser.error("upload needs at least one benchmark name or directory")
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    try:
        mirror = S3Mirror(args.url, progress=not args.quiet)
        if args.command == "list":
            for name in mirror.list():
                print(name)
            return 0
        cache_dir = args.cache_dir if args.cache_dir is not None else default_cache_dir()
        if args.command == "upload":
            for name in args.names:
                path = Path(name)
                if not (path / METADATA_FILE).is_file():
                    path = benchmark_dir(_check_name(name), cache_dir)
                    if not (path / METADATA_FILE).is_file():
                        raise BlackboxError(f"{name!r} is neither a benchmark directory nor in the cache {path.parent}")
                print(mirror.upload(path))
        else:
            for name in args.names or mirror.list():
                print(mirror.download(name, cache_dir))
    except BlackboxError as error:
        print("error: " + " ".join(str(error).split()), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    # run the imported module's ``main`` so that classes and logger names are those of ``blackbox_repository.mirror``
    from blackbox_repository.mirror import main as _main

    sys.exit(_main())
