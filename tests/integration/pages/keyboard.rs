//! The shell's keyboard and focus behaviour in a real Chromium: after a refused post focus is
//! on the error summary, Escape closes an open confirmation and returns focus to what opened
//! it, `hidden` wins over any display rule, and the focus ring has 3:1 contrast on the light
//! pages and on the dark top bar.

use fantoccini::key::Key;
use fantoccini::Client;

use crate::helpers::chrome::{by_testid, chromium, click, fill, sign_up};
use crate::helpers::{email, TestApp};

/// The data-testid of the focused element.
async fn focused(c: &Client) -> String {
    let out = c
        .execute(
            "return document.activeElement && document.activeElement.getAttribute('data-testid')",
            vec![],
        )
        .await
        .expect("read the focused element");
    out.as_str().unwrap_or_default().to_owned()
}

/// WCAG contrast of the focused element's outline against `background` (a CSS colour).
async fn focus_ring_contrast(c: &Client, background: &str) -> f64 {
    let out = c
        .execute(
            r#"
            const rgb = s => s.match(/[\d.]+/g).slice(0, 3).map(Number);
            const lum = ([r, g, b]) => {
              const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
              return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
            };
            const probe = document.createElement('div');
            probe.style.color = arguments[0];
            document.body.appendChild(probe);
            const bg = lum(rgb(getComputedStyle(probe).color));
            probe.remove();
            const style = getComputedStyle(document.activeElement);
            if (style.outlineStyle === 'none' || parseFloat(style.outlineWidth) < 2) return 0;
            const ring = lum(rgb(style.outlineColor));
            const [hi, lo] = ring > bg ? [ring, bg] : [bg, ring];
            return (hi + 0.05) / (lo + 0.05);
            "#,
            vec![background.into()],
        )
        .await
        .expect("measure the focus ring");
    out.as_f64().expect("a contrast ratio")
}

#[actix_web::test]
async fn focus_escape_and_hidden_work_as_the_shell_promises() {
    let app = TestApp::spawn().await;
    let (_driver, c) = chromium().await;

    // A refused sign-up: focus lands on the summary, which links to the field.
    c.goto(&app.url("/signup")).await.expect("open /signup");
    fill(&c, "signup-company", "Keys Co").await;
    fill(&c, "signup-name", "Kim").await;
    fill(&c, "signup-email", &email("keys")).await;
    fill(&c, "signup-password", "short").await;
    click(&c, "signup-submit").await;
    by_testid(&c, "error-summary").await;
    assert_eq!(
        focused(&c).await,
        "error-summary",
        "focus on the error summary"
    );

    // The focus ring on a light page: a focused field.
    click(&c, "signup-name").await;
    let on_white = focus_ring_contrast(&c, "#fff").await;
    assert!(on_white >= 3.0, "focus ring on white: {on_white:.2}:1");

    sign_up(&c, &app, "Keys Co", "Kim Keys", &email("keys")).await;

    // On the dark top bar: Tab from the top reaches the skip link, then the brand.
    c.goto(&app.url("/settings/provisioning"))
        .await
        .expect("open provisioning");
    let body = c
        .find(fantoccini::Locator::Css("body"))
        .await
        .expect("body");
    body.send_keys(&Key::Tab.to_string()).await.expect("Tab");
    body.send_keys(&Key::Tab.to_string()).await.expect("Tab");
    assert_eq!(focused(&c).await, "brand");
    let topbar = c
        .execute(
            "return getComputedStyle(document.querySelector('.topbar')).backgroundColor",
            vec![],
        )
        .await
        .expect("top bar colour");
    let on_bar = focus_ring_contrast(&c, topbar.as_str().expect("a colour")).await;
    assert!(on_bar >= 3.0, "focus ring on the top bar: {on_bar:.2}:1");

    // A secret, then its revoke confirmation opened from the keyboard and closed by Escape.
    click(&c, "scim-generate").await;
    by_testid(&c, "scim-secret-prefix").await;
    c.goto(&app.url("/settings/provisioning"))
        .await
        .expect("open provisioning");
    let summary = by_testid(&c, "scim-revoke-open").await;
    summary
        .send_keys(&Key::Enter.to_string())
        .await
        .expect("open with Enter");
    let is_open = || async {
        c.execute(
            "return document.querySelector('details.confirm').open",
            vec![],
        )
        .await
        .expect("read details state")
            == serde_json::json!(true)
    };
    assert!(is_open().await, "Enter opens the confirmation");
    let revoke = by_testid(&c, "scim-revoke").await;
    revoke
        .send_keys(&Key::Escape.to_string())
        .await
        .expect("Escape");
    assert!(!is_open().await, "Escape closes the confirmation");
    assert_eq!(
        focused(&c).await,
        "scim-revoke-open",
        "focus back on what opened it"
    );

    // `hidden` wins over the button rule (the Copy button without JavaScript).
    let display = c
        .execute(
            "const b = document.createElement('button'); b.className = 'copy'; b.hidden = true;
             document.querySelector('main').appendChild(b); return getComputedStyle(b).display;",
            vec![],
        )
        .await
        .expect("computed display");
    assert_eq!(display, serde_json::json!("none"));

    c.close().await.expect("close the browser session");
}
