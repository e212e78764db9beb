//! Renders the main pages of a console filled by `meetergo-console demo` to PNG, through a
//! headless Chromium driven over WebDriver (`scripts/screenshots` starts the console and
//! chromedriver, then runs this).
//!
//! `cargo run --example screenshots -- CONSOLE_URL CHROMEDRIVER_URL OUT_DIR`

use std::path::{Path, PathBuf};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const OWNER: &str = "owner@demo.meetergo.test";
const DESKTOP: (u32, u32) = (1280, 860);
const PHONE: (u32, u32) = (390, 844);

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [console, driver, out] = args.as_slice() else {
        anyhow::bail!("usage: screenshots CONSOLE_URL CHROMEDRIVER_URL OUT_DIR");
    };
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out)?;
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--hide-scrollbars", "--force-device-scale-factor=1", "--no-first-run"],
        }),
    );
    let c = ClientBuilder::native()
        .capabilities(caps)
        .connect(driver)
        .await?;
    let result = shoot(&c, console, &out).await;
    c.close().await?;
    result
}

async fn shoot(c: &Client, console: &str, out: &Path) -> anyhow::Result<()> {
    let url = |path: &str| format!("{}{path}", console.trim_end_matches('/'));
    c.set_window_size(DESKTOP.0, DESKTOP.1).await?;

    c.goto(&url("/login")).await?;
    save(c, out, "sign-in").await?;

    fill(c, "login-email", OWNER).await?;
    fill(c, "login-password", meetergo_console::demo::DEMO_PASSWORD).await?;
    click(c, "login-submit").await?;
    wait_for(c, "[data-testid=\"dashboard-title\"]").await?;
    save(c, out, "dashboard").await?;

    // A key first, so the token page's shown-once secret is the last thing created.
    c.goto(&url("/admin/api-keys")).await?;
    fill(c, "key-name", "Payroll sync").await.ok();
    if c.find(Locator::Css("[data-testid=\"create-key\"]"))
        .await
        .is_ok()
    {
        click(c, "create-key").await?;
        wait_for(
            c,
            "[data-testid=\"new-token\"], [data-testid=\"new-key\"], .secret",
        )
        .await
        .ok();
    }
    c.goto(&url("/admin/api-keys")).await?;
    save(c, out, "api-keys").await?;

    c.goto(&url("/integrations/api")).await?;
    fill(c, "token-name", "CRM sync").await?;
    click(c, "create-token").await?;
    wait_for(c, "[data-testid=\"new-token\"]").await?;
    save(c, out, "api-tokens-new-token").await?;

    c.goto(&url("/settings/members")).await?;
    save(c, out, "members").await?;

    c.goto(&url("/settings/audit")).await?;
    save(c, out, "audit-log").await?;

    c.set_window_size(PHONE.0, PHONE.1).await?;
    c.goto(&url("/integrations/api")).await?;
    save(c, out, "phone-api-tokens").await?;
    Ok(())
}

async fn wait_for(c: &Client, css: &str) -> anyhow::Result<()> {
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await?;
    Ok(())
}

async fn fill(c: &Client, testid: &str, text: &str) -> anyhow::Result<()> {
    let field = c
        .find(Locator::Css(&format!("[data-testid=\"{testid}\"]")))
        .await?;
    field.clear().await?;
    field.send_keys(text).await?;
    Ok(())
}

async fn click(c: &Client, testid: &str) -> anyhow::Result<()> {
    c.find(Locator::Css(&format!("[data-testid=\"{testid}\"]")))
        .await?
        .click()
        .await?;
    Ok(())
}

async fn save(c: &Client, out: &Path, name: &str) -> anyhow::Result<()> {
    // Let fonts and layout settle; the pages load no script that would change them later.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let png = c.screenshot().await?;
    let path = out.join(format!("{name}.png"));
    std::fs::write(&path, png)?;
    println!("{}", path.display());
    Ok(())
}
