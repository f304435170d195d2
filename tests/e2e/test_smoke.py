"""The browser sees the home page and the lots list in Chinese, and can sign in."""
from tests.factories import PASSWORD, LotFactory, UserFactory


def test_a_chinese_browser_signs_in_and_browses_lots(live_server, browser, reference, screenshots):
    UserFactory(email="buyer@example.com", name="采购员小王")
    LotFactory(title="钢渣 20000 吨")
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", "buyer@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_load_state()
    assert "采购员小王" in page.content()
    page.goto(f"{live_server}/lots")
    screenshots(page, "lots")
    assert "钢渣 20000 吨" in page.content()
    context.close()
