"""What employees and operators see, in a real browser: two people signed in through the
OpenID Connect mock provider search the same registered champion; the employee sees results,
the version as "v1, champion since ..." and no operator detail (no MLflow or Dagster links, no
version id), the admin (a member of DOCSEARCH_ADMIN_GROUP) sees the links to the runs that
built the index; neither gets Streamlit's Deploy button or developer menu."""

from __future__ import annotations

import pytest

from lifecycle.registry import Registry
from lifecycle.serving import resolve_serving, version_name
from search.index import IndexStore, read_manifest
from search.settings import Settings
from tests.app.browser import app_with_sign_in, idle, sign_in

EMPLOYEE, ADMIN = "ann@example.com", "bea@example.com"
PEOPLE = {EMPLOYEE: ["hr"], ADMIN: ["docsearch-admins"]}
DAGSTER_RUN = "0f1e2d3c-dagster-run"


def _register_champion(settings: Settings, version: str) -> str:
    """The built version logged, registered and made champion, as index_job leaves it."""
    registry = Registry.from_settings(settings)
    path = IndexStore(settings.index_root()).path(version)
    run_id = registry.log_build(path, read_manifest(path), {}, {}, {"dagster.run_id": DAGSTER_RUN})
    number = str(registry.register(run_id, path).version)
    registry.promote(number, force=True)
    return run_id


def _results_of(page, url: str, email: str) -> str:
    sign_in(page, url, email)
    box = page.get_by_label("Query")
    box.fill("vpn error 809")
    box.press("Enter")
    page.locator(".ds-result").first.wait_for(timeout=30_000)
    idle(page)
    return page.content()


def _no_deploy_menu(page) -> None:
    assert page.locator("[data-testid=stAppDeployButton]").count() == 0
    assert page.locator("[data-testid=stMainMenu]").count() == 0
    assert page.get_by_text("Deploy", exact=True).count() == 0


@pytest.mark.browser
@pytest.mark.slow
def test_employees_see_no_operator_details_and_admins_see_the_runs(
    app_home, browser_page, monkeypatch, tmp_path
):
    settings = Settings(home=app_home["home"], docs=app_home["docs"], model="hashing-128")
    run_id = _register_champion(settings, app_home["version"])
    # localhost (the app's address): where Streamlit shows developers its Deploy menu
    with app_with_sign_in(settings, PEOPLE, monkeypatch, tmp_path) as url:
        employee = browser_page
        admin = browser_page.context.browser.new_context().new_page()

        seen = _results_of(employee, url, EMPLOYEE)
        assert "VPN setup on Windows" in seen
        sidebar = employee.locator("[data-testid=stSidebar]").inner_text()
        assert "Index: v1, champion since " in sidebar
        assert employee.locator(".ds-lineage").count() == 0
        for detail in ("MLflow run", "Dagster run", run_id, DAGSTER_RUN, app_home["version"]):
            assert detail not in seen, detail
        assert "Version details" not in sidebar and "Monitoring" not in sidebar
        _no_deploy_menu(employee)

        _results_of(admin, url, ADMIN)
        lineage = admin.locator(".ds-lineage").first
        mlflow = lineage.get_by_role("link", name="MLflow run")
        assert run_id in mlflow.get_attribute("href")
        dagster = lineage.get_by_role("link", name="Dagster run")
        assert dagster.get_attribute("href").endswith(f"/runs/{DAGSTER_RUN}")
        sidebar = admin.locator("[data-testid=stSidebar]").inner_text()
        assert "Version details" in sidebar and "Monitoring" in sidebar
        _no_deploy_menu(admin)
    # the name the sidebar showed is the one the service gives
    assert version_name(resolve_serving(settings)).startswith("v1, champion since ")
