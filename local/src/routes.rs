//! The API's routes, as `template.yaml` deploys them.

/// One route of the HTTP API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Path; a segment `{name}` is a path parameter (it matches one non-empty segment).
    pub path: &'static str,
    /// The package under `functions/` that serves it.
    pub function: &'static str,
    /// Whether the Lambda authorizer runs in front of it.
    pub protected: bool,
}

impl Route {
    /// API Gateway's route key, e.g. `POST /login`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// Every route. The authorizer is `functions/authorizer`.
pub const ROUTES: &[Route] = &[
    Route {
        method: "POST",
        path: "/register",
        function: "register",
        protected: false,
    },
    Route {
        method: "POST",
        path: "/login",
        function: "login",
        protected: false,
    },
    Route {
        method: "GET",
        path: "/me",
        function: "user-info",
        protected: true,
    },
    Route {
        method: "POST",
        path: "/logout",
        function: "logout",
        protected: true,
    },
    Route {
        method: "POST",
        path: "/refresh",
        function: "refresh",
        protected: false,
    },
    Route {
        method: "GET",
        path: "/sessions",
        function: "sessions",
        protected: true,
    },
    Route {
        method: "DELETE",
        path: "/sessions/{id}",
        function: "sessions",
        protected: true,
    },
    Route {
        method: "POST",
        path: "/logout-all",
        function: "logout-all",
        protected: true,
    },
    Route {
        method: "POST",
        path: "/password",
        function: "change-password",
        protected: true,
    },
    Route {
        method: "DELETE",
        path: "/me",
        function: "delete-account",
        protected: true,
    },
    Route {
        method: "GET",
        path: "/",
        function: "account-page",
        protected: false,
    },
    Route {
        method: "GET",
        path: "/account.js",
        function: "account-page",
        protected: false,
    },
    Route {
        method: "GET",
        path: "/account.css",
        function: "account-page",
        protected: false,
    },
    Route {
        method: "GET",
        path: "/favicon.svg",
        function: "account-page",
        protected: false,
    },
];

/// Path parameters of a matched route, by name, percent-decoded (as API Gateway passes them).
pub type PathParameters = Vec<(&'static str, String)>;

/// The route for `method` and `path` with its path parameters, matched as API Gateway HTTP APIs
/// match routes: literal segments exactly (no trailing-slash or case folding), a `{name}`
/// segment against one non-empty path segment.
pub fn find(method: &str, path: &str) -> Option<(&'static Route, PathParameters)> {
    ROUTES
        .iter()
        .filter(|r| r.method == method)
        .find_map(|r| Some((r, matches(r.path, path)?)))
}

fn matches(pattern: &'static str, path: &str) -> Option<PathParameters> {
    let mut wanted = pattern.split('/');
    let mut got = path.split('/');
    let mut params = Vec::new();
    loop {
        match (wanted.next(), got.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') => {
                if g.is_empty() {
                    return None;
                }
                let value = percent_encoding::percent_decode_str(g).decode_utf8_lossy();
                params.push((&w[1..w.len() - 1], value.into_owned()));
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::find;

    #[test]
    fn matching() {
        assert_eq!(find("POST", "/login").unwrap().0.function, "login");
        assert!(find("GET", "/login").is_none());
        assert!(find("POST", "/login/").is_none());
        assert!(find("POST", "/Login").is_none());
        let (route, params) = find("DELETE", "/sessions/abc").unwrap();
        assert_eq!(route.path, "/sessions/{id}");
        assert_eq!(params, vec![("id", "abc".to_owned())]);
        assert!(find("DELETE", "/sessions/").is_none());
        let (_, params) = find("DELETE", "/sessions/%66%30a%2Fb").unwrap();
        assert_eq!(params, vec![("id", "f0a/b".to_owned())]);
        assert!(find("DELETE", "/sessions").is_none());
        assert!(find("DELETE", "/sessions/a/b").is_none());
        assert_eq!(find("GET", "/sessions").unwrap().0.function, "sessions");
        assert!(find("GET", "/sessions/abc").is_none());
        assert_eq!(find("GET", "/").unwrap().0.function, "account-page");
        assert!(find("GET", "").is_none());
        assert!(find("GET", "//").is_none());
        assert!(find("POST", "/").is_none());
        assert_eq!(
            find("GET", "/account.js").unwrap().0.function,
            "account-page"
        );
        assert!(find("GET", "/account.js/").is_none());
    }
}
