//! The page's files, embedded in the binary at build time from `static/`, by the path the page
//! is served under.

/// One file of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    /// The path it is served under, e.g. `/account.js`.
    pub path: &'static str,
    /// Its `Content-Type`, with the charset.
    pub content_type: &'static str,
    /// Its `Cache-Control`. The names carry no version, so a browser revalidates every time
    /// (`no-cache`): a page and a script of two different deployments never meet.
    pub cache_control: &'static str,
    /// The file's text.
    pub body: &'static str,
}

/// Every file of the page.
pub const ASSETS: &[Asset] = &[
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        cache_control: "no-cache",
        body: include_str!("../static/index.html"),
    },
    Asset {
        path: "/account.js",
        content_type: "text/javascript; charset=utf-8",
        cache_control: "no-cache",
        body: include_str!("../static/account.js"),
    },
    Asset {
        path: "/account.css",
        content_type: "text/css; charset=utf-8",
        cache_control: "no-cache",
        body: include_str!("../static/account.css"),
    },
    // Named by the page, so that the browser does not ask for a /favicon.ico there is none of.
    Asset {
        path: "/favicon.svg",
        content_type: "image/svg+xml; charset=utf-8",
        cache_control: "no-cache",
        body: include_str!("../static/favicon.svg"),
    },
];

/// The file served under `path`, if any.
pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}
