//! What a User-Agent header says in a few words ("Chrome on macOS"), for the pages that list
//! where someone signed in from: Profile → Sessions and the audit log.

/// "Firefox on Linux" from a User-Agent header: enough to recognise one's own devices.
pub fn device_of(user_agent: &str) -> String {
    let has = |s: &str| user_agent.contains(s);
    let browser = if has("Edg/") {
        "Edge"
    } else if has("OPR/") {
        "Opera"
    } else if has("Firefox/") {
        "Firefox"
    } else if has("Chrome/") || has("Chromium/") {
        "Chrome"
    } else if has("Safari/") {
        "Safari"
    } else {
        ""
    };
    let os = if has("Windows") {
        "Windows"
    } else if has("iPhone") || has("iPad") {
        "iOS"
    } else if has("Mac OS X") {
        "macOS"
    } else if has("Android") {
        "Android"
    } else if has("CrOS") {
        "ChromeOS"
    } else if has("Linux") {
        "Linux"
    } else {
        ""
    };
    match (browser, os) {
        ("", "") => {
            // A tool, not a browser: its first word ("curl/8.5.0" → "curl/8.5.0"), kept short.
            let first: String = user_agent
                .split_whitespace()
                .next()
                .unwrap_or("")
                .chars()
                .take(40)
                .collect();
            if first.is_empty() {
                "Unknown device".into()
            } else {
                first
            }
        }
        (b, "") => b.into(),
        ("", o) => format!("Browser on {o}"),
        (b, o) => format!("{b} on {o}"),
    }
}

#[cfg(test)]
mod tests {
    use super::device_of;

    #[test]
    fn devices_are_named_briefly() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(device_of(firefox), "Firefox on Linux");
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(device_of(safari), "Safari on iOS");
        assert_eq!(device_of("curl/8.5.0"), "curl/8.5.0");
        assert_eq!(device_of(""), "Unknown device");
    }
}
