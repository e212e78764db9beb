//! Reading the pages: the CSRF field, a secret shown once, the elements with a `data-testid`.

pub fn csrf_in(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    let rest = html.get(start..)?;
    Some(rest.get(..rest.find('"')?)?.to_owned())
}

/// The token or key a creation page shows once.
pub fn new_secret_in(html: &str) -> Option<String> {
    testid_text(html, "new-token")
}

/// The text of the (first) element with this `data-testid`, up to the next tag, unescaped.
pub fn testid_text(html: &str, id: &str) -> Option<String> {
    let marker = format!("data-testid=\"{id}\"");
    let at = html.find(&marker)? + marker.len();
    let rest = html.get(at..)?;
    let start = rest.find('>')? + 1;
    let text = rest.get(start..)?;
    Some(unescape(text.get(..text.find('<')?)?.trim()))
}

/// The visible words inside the element with this testid, tags stripped (`<time>` and
/// `<span>` included), up to the element's closing tag: for values rendered by `m::when`.
pub fn testid_words(html: &str, id: &str) -> Option<String> {
    let marker = format!("data-testid=\"{id}\"");
    let at = html.find(&marker)?;
    let tag_start = html.get(..at)?.rfind('<')?;
    let tag = html.get(tag_start + 1..)?;
    let name: String = tag
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let rest = html.get(at + marker.len()..)?;
    let inner = rest.get(rest.find('>')? + 1..)?;
    let inner = inner.get(..inner.find(&format!("</{name}>"))?)?;
    let mut words = String::new();
    let mut in_tag = false;
    for c in inner.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => words.push(c),
            _ => {}
        }
    }
    Some(unescape(words.trim()))
}

/// Decodes the character references a template writes (askama writes `&#60;`-style ones).
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .map(|hex| u32::from_str_radix(hex, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The invitation link the members page shows after inviting.
pub fn invite_link_in(html: &str) -> Option<String> {
    testid_text(html, "invite-link")
}

/// `/invite/<token>` of a full invitation link.
pub fn link_path(link: &str) -> String {
    let at = link.find("/invite/").expect("an /invite/ link");
    link.get(at..).expect("path").to_owned()
}

/// The secret token of an invitation link.
pub fn token_of(link: &str) -> String {
    link_path(link)
        .strip_prefix("/invite/")
        .expect("token")
        .to_owned()
}

/// The `<tr>` of the members table for this email.
pub fn member_row<'h>(html: &'h str, address: &str) -> Option<&'h str> {
    let start = html.find(&format!(
        "data-testid=\"member-row\" data-email=\"{address}\""
    ))?;
    let rest = html.get(start..)?;
    rest.get(..rest.find("</tr>")?)
}

pub fn member_rows(html: &str) -> usize {
    html.matches("data-testid=\"member-row\"").count()
}

/// The role options a members-page row offers (empty: no role control).
pub fn role_choices(row: &str) -> Vec<String> {
    row.split("<option value=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next().map(str::to_owned))
        .collect()
}
