"""Where the YAHPO surrogate files are: a local copy of yahpo_data, completed by downloads when needed.

The data directory is ``$HPO_YAHPO_DATA`` if set, else ``<cache parent>/yahpo_data`` (beside the
benchmark cache, e.g. ``~/.cache/hpo-workbench/yahpo_data``). It holds one folder per scenario with
``config_space.json``, ``encoding.json`` and ``model.onnx``, as in github.com/slds-lmu/yahpo_data
(release v1.0.2). A missing file is downloaded from ``$HPO_YAHPO_URL`` (default: that release on
raw.githubusercontent.com) into the data directory.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from blackbox_repository.download import fetch
from blackbox_repository.errors import BlackboxError
from blackbox_repository.locations import default_cache_dir
from blackbox_repository.yahpo.checksums import YAHPO_SHA256

logger = logging.getLogger(__name__)

DATA_ENV = "HPO_YAHPO_DATA"
URL_ENV = "HPO_YAHPO_URL"
DEFAULT_URL = "https://raw.githubusercontent.com/slds-lmu/yahpo_data/v1.0.2"
SCENARIO_FILES = ("config_space.json", "encoding.json", "model.onnx")
FIX_HINT = (
    f"set {DATA_ENV} to a directory with a copy of github.com/slds-lmu/yahpo_data (release v1.0.2), "
    f"or {URL_ENV} to a reachable mirror of it"
)


def yahpo_data_dir(data_dir: Path | str | None = None) -> Path:
    """The YAHPO data directory: ``data_dir`` if given, else ``$HPO_YAHPO_DATA``, else beside the cache."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    return default_cache_dir().parent / "yahpo_data"


def base_url() -> str:
    return os.environ.get(URL_ENV) or DEFAULT_URL


def scenario_file(scenario: str, filename: str, data_dir: Path | str | None = None) -> Path:
    """Path of one file of a scenario, downloaded into the data directory if it is not there yet."""
    directory = yahpo_data_dir(data_dir) / scenario
    path = directory / filename
    if path.is_file():
        return path
    url = f"{base_url().rstrip('/')}/{scenario}/{filename}"
    logger.info("YAHPO %s: %s is not in %s; downloading %s", scenario, filename, directory, url)
    try:
        return fetch(url, path, sha256=YAHPO_SHA256.get(f"{scenario}/{filename}"))
    except BlackboxError as error:
        reason = _one_line(str(error))
        raise BlackboxError(f"YAHPO {scenario}: {filename} is not in {directory} and {reason}; {FIX_HINT}") from None
    except OSError as error:
        raise BlackboxError(
            f"YAHPO {scenario}: {filename} is not in {directory} and cannot be stored there ({_one_line(str(error))}); "
            f"{FIX_HINT}"
        ) from None


def _one_line(text: str) -> str:
    return " ".join(text.split())
