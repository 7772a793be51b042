"""Optional dependencies of the tests: a skip on a developer's machine, a failure in CI (``CI`` set)."""

from __future__ import annotations

import pytest

from tests.blackbox_repository.optional import import_or_skip


@pytest.mark.parametrize("ci", ["true", "1"])
def test_a_missing_optional_dependency_fails_in_ci(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match=r"needs it .*\$CI is set, so a missing optional dependency"):
        import_or_skip("no_such_module_hpo_workbench", "needs it")


@pytest.mark.parametrize("ci", [None, "", "false"])
def test_a_missing_optional_dependency_skips_outside_ci(monkeypatch: pytest.MonkeyPatch, ci: str | None) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match="needs it"):
        import_or_skip("no_such_module_hpo_workbench", "needs it")
    assert import_or_skip("json", "always there").dumps([1]) == "[1]"
