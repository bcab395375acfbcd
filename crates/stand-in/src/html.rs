//! Escaping text for the stand-in's HTML pages.

/// `text` with the five HTML-significant characters escaped.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A complete, minimal HTML page with the stand-in's look.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f}}\
         .badge{{display:inline-block;background:#fde68a;color:#713f12;padding:.1rem .5rem;border-radius:.3rem;font-size:.8rem}}\
         button{{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem;border-radius:.4rem;border:1px solid #555;cursor:pointer}}\
         button.approve{{background:#14532d;color:#fff}} label{{display:block;margin:.3rem 0}}\
         code{{background:#f3f4f6;padding:0 .2rem}}</style></head><body>\
         <p><span class=\"badge\">Local stand-in for Pleo's authorisation server</span></p>{body}</body></html>",
        title = escape(title)
    )
}
