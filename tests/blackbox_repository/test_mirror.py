"""The S3 mirror against a real (local, in-process) S3 server: moto's ThreadedMotoServer."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.blackbox_repository.optional import import_or_skip  # noqa: E402

import_or_skip("s3fs", "the S3 mirror needs s3fs: pip install 'hpo-workbench[s3]'")
moto_server = import_or_skip("moto.server", "needs moto's S3 server: pip install 'moto[server]'")
boto3 = import_or_skip("boto3", "needs boto3: pip install 'moto[server]'")

from blackbox_repository import BlackboxError, BlackboxRepository, ChecksumError, read_blackbox, write_blackbox  # noqa: E402
from blackbox_repository.atomic import sha256_file  # noqa: E402
from blackbox_repository.mirror import INSTALL_HINT, S3Mirror, main  # noqa: E402
from blackbox_repository.repository import EMBEDDED_DIR, GENERATORS, MIRROR_ENV, MIRROR_UPLOAD_ENV  # noqa: E402
from tests.conftest import make_table  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EMBEDDED = "sklearn-mlp-digits"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_env(endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Dummy credentials and the endpoint in the environment; nothing from the user's AWS setup."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", MIRROR_ENV, MIRROR_UPLOAD_ENV):
        monkeypatch.delenv(name, raising=False)
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def s3(s3_env: dict[str, str]):
    return boto3.client("s3")


@pytest.fixture
def url(s3) -> str:
    """A fresh bucket per test, mirror under a prefix."""
    bucket = f"mirror-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    return f"s3://{bucket}/benchmarks/v1"


def keys(s3, url: str) -> list[str]:
    bucket, prefix = url.removeprefix("s3://").split("/", 1)
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix + "/")
    return sorted(item["Key"].removeprefix(prefix + "/") for item in listing.get("Contents", []))


def small(directory: Path, name: str = "tiny") -> Path:
    """A small benchmark written to ``directory / name``."""
    rng = np.random.default_rng(0)
    table = make_table(rng.uniform(size=(4, 2, 3)), rng.uniform(1, 2, size=(4, 2, 3)), name=name)
    return write_blackbox(directory / name, table)


def assert_same(a, b) -> None:
    np.testing.assert_array_equal(np.asarray(a.objectives), np.asarray(b.objectives))
    pd.testing.assert_frame_equal(a.configs, b.configs)
    assert a.space == b.space and a.objective_names == b.objective_names


def test_upload_download_round_trip(url: str, s3, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    mirror = S3Mirror(url, progress=False)
    assert mirror.list() == [] and not mirror.exists(EMBEDDED)
    assert mirror.upload(EMBEDDED_DIR / EMBEDDED) == f"{url}/{EMBEDDED}"
    assert keys(s3, url) == [f"{EMBEDDED}/{f}" for f in ("hyperparameters.parquet", "metadata.json", "objectives.npy")]
    assert mirror.list() == [EMBEDDED] and mirror.exists(EMBEDDED)

    with caplog.at_level(logging.INFO, logger="blackbox_repository.mirror"):
        mirror.upload(EMBEDDED_DIR / EMBEDDED)
    assert "already in the mirror" in caplog.text

    dest = tmp_path / "downloads"
    path = mirror.download(EMBEDDED, dest)
    assert path == dest / EMBEDDED
    assert sorted(p.name for p in dest.iterdir()) == [EMBEDDED]  # no temporary directory left over
    metadata = json.loads((path / "metadata.json").read_text())
    assert {f: sha256_file(path / f) for f in metadata["files"]} == metadata["files"]
    assert (path / ".verified.json").is_file()  # verified during the download: loading does not hash again
    assert_same(read_blackbox(path), read_blackbox(EMBEDDED_DIR / EMBEDDED))


def test_corrupt_object_raises_checksum_error_and_leaves_nothing(url: str, s3, tmp_path: Path) -> None:
    mirror = S3Mirror(url, progress=False)
    mirror.upload(small(tmp_path / "local"))
    bucket, prefix = url.removeprefix("s3://").split("/", 1)
    original = s3.get_object(Bucket=bucket, Key=f"{prefix}/tiny/objectives.npy")["Body"].read()
    s3.put_object(Bucket=bucket, Key=f"{prefix}/tiny/objectives.npy", Body=original[:-8] + b"\x00" * 8)

    cache = tmp_path / "cache"
    with pytest.raises(ChecksumError, match="corrupt in the mirror") as info:
        BlackboxRepository(cache_dir=cache, mirror=url).load("tiny")
    assert "\n" not in str(info.value)
    assert not cache.exists() or list(cache.iterdir()) == []

    # an older good copy in the destination survives a failed download
    good = small(cache)
    with pytest.raises(ChecksumError):
        mirror.download("tiny", cache)
    assert sorted(p.name for p in cache.iterdir()) == ["tiny"]
    assert_same(read_blackbox(good), read_blackbox(tmp_path / "local" / "tiny"))


def test_repository_loads_from_the_mirror_when_not_cached(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploader = BlackboxRepository(cache_dir=tmp_path / "generated", mirror=url)
    small(uploader.cache_dir)
    assert uploader.upload("tiny") == f"{url}/tiny"

    monkeypatch.setenv(MIRROR_ENV, url)  # the default mirror
    repository = BlackboxRepository(cache_dir=tmp_path / "cache")
    assert repository.mirror is not None and repository.mirror.url == url
    assert "tiny" in repository.list() and EMBEDDED in repository.list()
    assert not repository.path("tiny").exists()
    blackbox = repository.load("tiny")
    assert (repository.path("tiny") / "metadata.json").is_file()
    assert_same(blackbox, read_blackbox(uploader.cache_dir / "tiny"))
    assert BlackboxRepository(cache_dir=tmp_path / "cache", mirror="").mirror is None

    with pytest.raises(BlackboxError, match="unknown benchmark 'absent'"):
        repository.load("absent")

    monkeypatch.setenv(MIRROR_ENV, "s3:/typo")
    with pytest.raises(BlackboxError, match=rf"^\${MIRROR_ENV}: bad mirror URL 's3:/typo'"):
        BlackboxRepository(cache_dir=tmp_path / "cache")


def test_generated_benchmarks_are_uploaded_when_asked(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(1)

    def generator(source_path, **options):
        for name in ("gen-a", "gen-b"):  # one source file, two benchmarks
            yield make_table(rng.uniform(size=(3, 1, 2)), np.ones((3, 1, 2)), name=name)

    monkeypatch.setitem(GENERATORS, "gen-a", generator)
    monkeypatch.setitem(GENERATORS, "gen-b", generator)
    BlackboxRepository(cache_dir=tmp_path / "no-upload", mirror=url).load("gen-a")
    assert S3Mirror(url).list() == []

    monkeypatch.setenv(MIRROR_UPLOAD_ENV, "1")
    repository = BlackboxRepository(cache_dir=tmp_path / "cache", mirror=url)
    assert repository.upload_generated
    repository.load("gen-a")
    assert S3Mirror(url).list() == ["gen-a", "gen-b"]


def test_metadata_is_uploaded_last(url: str, s3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = S3Mirror(url, progress=False)
    fs = mirror._filesystem()
    order = []
    put_file = fs.put_file

    def recording(lpath, rpath, **kwargs):
        order.append(rpath.rsplit("/", 1)[-1])
        return put_file(lpath, rpath, **kwargs)

    monkeypatch.setattr(fs, "put_file", recording)
    mirror.upload(small(tmp_path))
    assert order[-1] == "metadata.json" and sorted(order[:-1]) == ["hyperparameters.parquet", "objectives.npy"]

    # an interrupted upload (data files only) is neither listed nor loadable
    bucket, prefix = url.removeprefix("s3://").split("/", 1)
    for file in ("hyperparameters.parquet", "objectives.npy"):
        s3.upload_file(str(tmp_path / "tiny" / file), bucket, f"{prefix}/half/{file}")
    assert mirror.list() == ["tiny"] and not mirror.exists("half")
    with pytest.raises(BlackboxError, match="unknown benchmark 'half'"):
        BlackboxRepository(cache_dir=tmp_path / "cache", mirror=url).load("half")
    with pytest.raises(BlackboxError, match="'half' is not in the mirror"):
        mirror.download("half", tmp_path / "cache")


def test_replacing_a_benchmark_with_other_data(url: str, tmp_path: Path) -> None:
    mirror = S3Mirror(url, progress=False)
    mirror.upload(small(tmp_path / "one"))
    table = make_table(np.zeros((2, 1, 2)), np.ones((2, 1, 2)), name="tiny")
    mirror.upload(write_blackbox(tmp_path / "two" / "tiny", table))
    assert_same(read_blackbox(mirror.download("tiny", tmp_path / "cache")), table)


@pytest.mark.parametrize(
    "bad", ["http://bucket/prefix", "bucket/prefix", "s3://", "s3://ab", "s3://Upper/x", "s3://bucket//x", ""]
)
def test_bad_url_is_a_one_line_error(bad: str) -> None:
    with pytest.raises(BlackboxError, match="bad mirror URL") as info:
        S3Mirror(bad)
    assert "\n" not in str(info.value)


def test_bad_names_and_uploads_are_refused(url: str, tmp_path: Path) -> None:
    mirror = S3Mirror(url, progress=False)
    for name in ("../x", "a/b", ".hidden", ""):
        with pytest.raises(BlackboxError, match="invalid benchmark name"):
            mirror.download(name, tmp_path)
    with pytest.raises(BlackboxError, match="metadata.json is missing"):
        mirror.upload(tmp_path)
    directory = small(tmp_path)
    with pytest.raises(BlackboxError, match="cannot be uploaded as 'other'"):
        mirror.upload(directory, "other")
    (directory / "objectives.npy").write_bytes(b"changed")
    with pytest.raises(ChecksumError):
        mirror.upload(directory)
    assert mirror.list() == []


def test_missing_bucket_is_a_one_line_error(s3_env: dict[str, str], tmp_path: Path) -> None:
    mirror = S3Mirror("s3://no-such-bucket-here/prefix", progress=False)
    calls = [mirror.list, lambda: mirror.exists("x"), lambda: mirror.download("x", tmp_path),
             lambda: mirror.upload(small(tmp_path))]
    for call in calls:
        with pytest.raises(BlackboxError, match="bucket 'no-such-bucket-here' does not exist") as info:
            call()
        message = str(info.value)
        assert "\n" not in message and "s3://no-such-bucket-here/prefix" in message
        assert s3_env["AWS_ENDPOINT_URL_S3"] in message


def test_unreachable_endpoint_and_missing_credentials(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", closed)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # botocore's default retries take ~8 s
    with pytest.raises(BlackboxError, match="cannot reach the S3 endpoint") as info:
        S3Mirror(url).list()
    assert "\n" not in str(info.value) and closed in str(info.value) and url in str(info.value)

    repository = BlackboxRepository(cache_dir=tmp_path, mirror=url)
    with caplog.at_level(logging.WARNING):
        assert EMBEDDED in repository.list()
    assert "not listing the mirror" in caplog.text
    with pytest.raises(BlackboxError, match="cannot reach"):
        repository.load("tiny")
    stored = small(tmp_path / "src")
    monkeypatch.setitem(GENERATORS, "tiny", lambda source_path, **options: iter([read_blackbox(stored)]))
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert repository.load("tiny").name == "tiny"  # a generator can build it: the mirror is skipped
    assert "cannot reach" in caplog.text and "generating 'tiny' instead" in caplog.text

    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(BlackboxError, match="no AWS credentials found") as info:
        S3Mirror(url).list()
    assert "\n" not in str(info.value)


def test_missing_s3fs_names_the_install_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "s3fs", None)  # import s3fs -> ImportError
    mirror = S3Mirror("s3://bucket/prefix")  # the URL is checked without s3fs
    with pytest.raises(BlackboxError, match="needs s3fs") as info:
        mirror.list()
    assert INSTALL_HINT in str(info.value)
    repository = BlackboxRepository(cache_dir=tmp_path, mirror="s3://bucket/prefix")
    assert repository.load(EMBEDDED).num_configs == 1280  # embedded benchmarks need no mirror


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "blackbox_repository.mirror", *args],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, **env}, timeout=60,
    )


def test_command_line(url: str, s3_env: dict[str, str], tmp_path: Path) -> None:
    env = {**s3_env, "HPO_BLACKBOX_CACHE": str(tmp_path / "default-cache")}
    directory = small(tmp_path / "local")
    done = run_cli("upload", str(directory), "--url", url, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [f"{url}/tiny"]

    done = run_cli("list", "--url", url, env=env)
    assert (done.returncode, done.stdout.split()) == (0, ["tiny"]), done.stderr

    done = run_cli("download", "tiny", "--url", url, "--cache-dir", str(tmp_path / "cache"), "-q", env=env)
    assert done.returncode == 0, done.stderr
    assert_same(read_blackbox(tmp_path / "cache" / "tiny"), read_blackbox(directory))

    done = run_cli("list", "--url", "s3://no-such-bucket-here", env=env)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1 and "does not exist" in done.stderr


def test_command_line_bad_input(url: str, capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    cases = [
        (["list"], "no mirror"),
        (["list", "--url", "gs://bucket"], "bad mirror URL"),
        (["list", "x", "--url", url], "list takes no names"),
        (["upload", "--url", url], "upload needs"),
        (["upload", "not-there", "--url", url, "--cache-dir", str(tmp_path)], "neither a benchmark directory"),
        (["download", "absent", "--url", url, "--cache-dir", str(tmp_path)], "'absent' is not in the mirror"),
        (["copy", "--url", url], "invalid choice"),
    ]
    for argv, expected in cases:
        try:
            code = main(argv)
        except SystemExit as exit:  # argparse errors
            code = exit.code
        captured = capsys.readouterr()
        assert code == 2, (argv, captured)
        assert captured.err.startswith("error: ") and captured.err.count("\n") == 1, (argv, captured.err)
        assert expected in captured.err, (argv, captured.err)
