"""The public pages in a real browser: Debian's headless Chromium (driven by its ChromeDriver) on a phone-sized
window loads the competition's home, the first public notice and the results from the API served over HTTP, files
a real-name objection that is refused with every problem named on the page, corrects it and gets its number."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from catalogs import bundled_catalogs
from config import Settings
from db.final_models import OrganisationAward
from db.models import Competition, RankingRun
from db.notice_models import Objection
from domain.calendar import window_of, windows_to_plain
from domain.stages import Stage
from tests.helpers import (
    announce,
    liaoning_calendar_from,
    make_id_number,
    pass_checks,
    project_start,
    seed_project,
    start_project,
    wait_for,
)
from workflows.contracts import DecisionRequest
from workflows.project import ProjectWorkflow

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"  # `make browser` installs both
PHONE = (390, 844)


@dataclass
class Visit:
    """What the visitor saw, page by page."""

    home_title: str = ""
    calendar_rows: int = 0
    tracks: list[str] = field(default_factory=list)
    problems: int = 0
    fits_phone: dict[str, bool] = field(default_factory=dict)
    listing: list[str] = field(default_factory=list)
    page_text: str = ""
    errors: list[str] = field(default_factory=list)
    invalid_fields: list[str] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)
    receipt: str = ""
    results: str = ""


def browser(profile: Path) -> WebDriver:
    """Headless Chromium as root on a closed network, phone-sized."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        f"--user-data-dir={profile}",
        f"--window-size={PHONE[0]},{PHONE[1]}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    return driver


def fits(driver: WebDriver) -> bool:
    """Nothing sticks out sideways on a phone."""
    return bool(driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1"))


def left(element: WebElement) -> Callable[[WebDriver], bool]:
    """Until the page holding `element` is gone. Chromium, asked in the middle of the navigation, may answer that
    the node "does not belong to the document" instead of calling it stale: the same fact, said otherwise."""

    def gone(_driver: WebDriver) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if "does not belong to the document" in str(exc.msg):
                return True
            raise
        return False

    return gone


def fill(driver: WebDriver, values: dict[str, str], evidence: Path) -> None:
    for name, value in values.items():
        box = driver.find_element(By.NAME, name)
        box.clear()
        box.send_keys(value)
    driver.find_element(By.NAME, "evidence").send_keys(str(evidence))
    button = driver.find_element(By.CSS_SELECTOR, "button[type=submit]")
    button.click()
    # The answer is a new page: wait until the old one is gone and the new one has its receipt or its errors.
    wait = WebDriverWait(driver, 30)
    wait.until(left(button))
    wait.until(lambda d: d.find_elements(By.ID, "receipt") or d.find_elements(By.ID, "errors"))


def visit(base: str, code: str, project_id: str, tmp: Path) -> Visit:
    """A visitor's session, start to end (blocking: run in a thread, the worker shares the test's loop)."""
    seen = Visit()
    evidence = tmp / "举报证据.pdf"
    evidence.write_bytes(b"%PDF-1.7 evidence of a false claim")
    driver = browser(tmp / "profile")
    try:
        driver.get(f"{base}/competitions/{code}/page")
        seen.home_title = driver.title
        seen.calendar_rows = len(driver.find_elements(By.CSS_SELECTOR, "#calendar tbody tr"))
        seen.tracks = [e.get_attribute("id") or "" for e in driver.find_elements(By.CSS_SELECTOR, "details.track")]
        seen.problems = len(driver.find_elements(By.CSS_SELECTOR, "details.track li"))
        seen.fits_phone["home"] = fits(driver)

        link = driver.find_element(By.PARTIAL_LINK_TEXT, "初赛公示")
        link.click()
        WebDriverWait(driver, 30).until(left(link))
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "listing"))
        seen.listing = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#listing tbody tr")]
        seen.fits_phone["notice"] = fits(driver)
        Select(driver.find_element(By.NAME, "project_id")).select_by_value(project_id)
        form = {
            "name": "李明",
            "id_number": "210102198503120000",  # wrong check digit
            "phone": "12345",
            "email": f"objector-{uuid.uuid4().hex[:6]}@example.com",
            "grounds": "应用案例证明与实际不符",
        }
        fill(driver, form, evidence)
        seen.errors = [e.get_attribute("data-code") or "" for e in driver.find_elements(By.CSS_SELECTOR, "#errors li")]
        seen.invalid_fields = [
            e.get_attribute("name") or "" for e in driver.find_elements(By.CSS_SELECTOR, "[aria-invalid=true]")
        ]
        seen.kept = {
            name: driver.find_element(By.NAME, name).get_attribute("value") or ""
            for name in ("name", "id_number", "phone", "email", "grounds")
        }
        seen.page_text = driver.page_source
        fill(driver, {"id_number": make_id_number(77), "phone": "13912345678"}, evidence)
        receipts = driver.find_elements(By.ID, "receipt")
        seen.receipt = receipts[0].text if receipts else driver.find_element(By.ID, "errors").text

        link = driver.find_element(By.PARTIAL_LINK_TEXT, "结果")
        link.click()
        WebDriverWait(driver, 30).until(left(link))
        seen.results = WebDriverWait(driver, 30).until(lambda d: d.find_element(By.TAG_NAME, "main")).text
        seen.fits_phone["results"] = fits(driver)
    finally:
        driver.quit()
    return seen


async def test_a_visitor_reads_the_pages_and_files_an_objection_in_chromium(
    live_api: str,
    dev_env: WorkflowEnvironment,
    api_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    now = await dev_env.get_current_time()
    calendar = liaoning_calendar_from(now - timedelta(days=71))  # the first public notice opened two days ago
    assert window_of(calendar, Stage.FIRST_PUBLIC_NOTICE).opens_at < now
    code = f"ln-pages-{uuid.uuid4().hex[:6]}"
    start = replace(project_start(f"{code}-P00001", calendar), competition_code=code)
    await seed_project(sessions, start)
    catalog = json.loads(json.dumps(yaml.safe_load(bundled_catalogs()["liaoning-2025"].read_text()), default=str))
    async with sessions.begin() as session:
        await session.execute(
            update(Competition)
            .where(Competition.code == code)
            .values(calendar=windows_to_plain(calendar), catalog=catalog)
        )
        session.add(_final_run(code, start.project_id))
        session.add(
            OrganisationAward(
                competition_code=code,
                recipient="沈阳市数据局",
                kind="city",
                citation="组织有力",
                granted_by="organiser",
            )
        )
    handle = await start_project(dev_env.client, api_settings.temporal_task_queue, start)
    await pass_checks(handle)
    await announce(handle, advanced=True)
    await wait_for(handle, lambda s: s.stage == "technical_verification")
    await handle.execute_update(ProjectWorkflow.decide, DecisionRequest("technical_verification", "advance", "验证组"))
    await wait_for(handle, lambda s: s.stage == "first_public_notice" and s.waiting_on == "public")

    seen = await asyncio.to_thread(visit, live_api, code, start.project_id, tmp_path)

    assert "2025年‘数据要素×’大赛辽宁分赛" in seen.home_title
    assert seen.calendar_rows == 8 and len(seen.tracks) == 10 and seen.problems == 81  # 8 stages, award included
    assert seen.fits_phone == {"home": True, "notice": True, "results": True}
    assert len(seen.listing) == 1 and start.project_id in seen.listing[0] and start.project_name in seen.listing[0]
    assert seen.errors == ["invalid_id_number", "invalid_phone"]
    assert sorted(seen.invalid_fields) == ["id_number", "phone"]
    assert seen.kept["name"] == "李明" and seen.kept["grounds"] == "应用案例证明与实际不符"
    assert seen.kept["id_number"] == "" and "210102198503120000" not in seen.page_text  # never echoed back
    assert start.contact_email not in seen.page_text  # a notice shows no people
    assert "举报已受理" in seen.receipt
    found = re.search(r"编号\s*(\d+)", seen.receipt)
    assert found is not None
    number = int(found.group(1))
    async with sessions() as session:
        row = (await session.scalars(select(Objection).where(Objection.project_id == start.project_id))).one()
    assert (row.id, row.status, len(row.evidence)) == (number, "open", 1)
    assert "一等奖" in seen.results and start.project_name in seen.results and "沈阳市数据局" in seen.results
    await handle.terminate("test over")


def _final_run(code: str, project_id: str) -> RankingRun:
    """A confirmed final ranking with one first prize, for the results page."""
    return RankingRun(
        competition_code=code,
        round="final",
        parameters={},
        result={
            "standings": [],
            "awards": [{"project_id": project_id, "track": "city_governance", "level": "first"}],
            "vacancies": [],
            "recommendations": {"projects": [], "swaps": []},
        },
        digest="0" * 64,
        created_by="organiser",
        confirmed_by="organiser",
        confirmed_at=datetime.now(UTC),
    )
