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
    /// Who may call it.
    pub auth: Auth,
}

/// How a route is authorized, as the template's `Auth.Authorizer` of its event says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Auth {
    /// Anyone.
    None,
    /// The session authorizer (`SessionAuthorizer`): an access token of a live session.
    Session,
    /// IAM (`AWS_IAM`): operators only. The local server serves these routes only on its admin
    /// listener, bound to 127.0.0.1, and not on the API's.
    Iam,
}

impl Route {
    /// Whether the session authorizer runs in front of it.
    pub fn protected(&self) -> bool {
        self.auth == Auth::Session
    }

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
        auth: Auth::None,
    },
    Route {
        method: "POST",
        path: "/login",
        function: "login",
        auth: Auth::None,
    },
    Route {
        method: "POST",
        path: "/login/mfa",
        function: "login",
        auth: Auth::None,
    },
    Route {
        method: "POST",
        path: "/mfa/totp",
        function: "mfa",
        auth: Auth::Session,
    },
    Route {
        method: "POST",
        path: "/mfa/totp/confirm",
        function: "mfa",
        auth: Auth::Session,
    },
    Route {
        method: "DELETE",
        path: "/mfa/totp",
        function: "mfa",
        auth: Auth::Session,
    },
    Route {
        method: "GET",
        path: "/me",
        function: "user-info",
        auth: Auth::Session,
    },
    Route {
        method: "POST",
        path: "/logout",
        function: "logout",
        auth: Auth::Session,
    },
    Route {
        method: "POST",
        path: "/refresh",
        function: "refresh",
        auth: Auth::None,
    },
    Route {
        method: "GET",
        path: "/sessions",
        function: "sessions",
        auth: Auth::Session,
    },
    Route {
        method: "DELETE",
        path: "/sessions/{id}",
        function: "sessions",
        auth: Auth::Session,
    },
    Route {
        method: "POST",
        path: "/logout-all",
        function: "logout-all",
        auth: Auth::Session,
    },
    Route {
        method: "POST",
        path: "/password",
        function: "change-password",
        auth: Auth::Session,
    },
    Route {
        method: "DELETE",
        path: "/me",
        function: "delete-account",
        auth: Auth::Session,
    },
    // The EdDSA public keys, for other verifiers.
    Route {
        method: "GET",
        path: "/.well-known/jwks.json",
        function: "jwks",
        auth: Auth::None,
    },
    Route {
        method: "GET",
        path: "/.well-known/openid-configuration",
        function: "jwks",
        auth: Auth::None,
    },
    // The example of a route of your own (docs/adding-a-route.md).
    Route {
        method: "GET",
        path: "/hello",
        function: "hello",
        auth: Auth::Session,
    },
    Route {
        method: "GET",
        path: "/",
        function: "account-page",
        auth: Auth::None,
    },
    Route {
        method: "GET",
        path: "/account.js",
        function: "account-page",
        auth: Auth::None,
    },
    Route {
        method: "GET",
        path: "/account.css",
        function: "account-page",
        auth: Auth::None,
    },
    Route {
        method: "GET",
        path: "/favicon.svg",
        function: "account-page",
        auth: Auth::None,
    },
    Route {
        method: "POST",
        path: "/admin/users/{username}/logout-all",
        function: "admin",
        auth: Auth::Iam,
    },
    Route {
        method: "POST",
        path: "/admin/users/{username}/disable",
        function: "admin",
        auth: Auth::Iam,
    },
    Route {
        method: "POST",
        path: "/admin/users/{username}/enable",
        function: "admin",
        auth: Auth::Iam,
    },
    Route {
        method: "GET",
        path: "/admin/users/{username}/sessions",
        function: "admin",
        auth: Auth::Iam,
    },
    Route {
        method: "DELETE",
        path: "/admin/users/{username}/mfa",
        function: "admin",
        auth: Auth::Iam,
    },
];

/// Path parameters of a matched route, by name, percent-decoded (as API Gateway passes them).
pub type PathParameters = Vec<(&'static str, String)>;

/// The route for `method` and `path` with its path parameters, matched as API Gateway HTTP APIs
/// match routes: literal segments exactly (no trailing-slash or case folding), a `{name}`
/// segment against one non-empty path segment. Only the operator routes ([`Auth::Iam`]) when
/// `admin`, only the others when not.
pub fn find(method: &str, path: &str, admin: bool) -> Option<(&'static Route, PathParameters)> {
    ROUTES
        .iter()
        .filter(|r| r.method == method && (r.auth == Auth::Iam) == admin)
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
        assert_eq!(find("POST", "/login", false).unwrap().0.function, "login");
        assert!(find("GET", "/login", false).is_none());
        assert!(find("POST", "/login/", false).is_none());
        assert!(find("POST", "/Login", false).is_none());
        let (route, params) = find("DELETE", "/sessions/abc", false).unwrap();
        assert_eq!(route.path, "/sessions/{id}");
        assert_eq!(params, vec![("id", "abc".to_owned())]);
        assert!(find("DELETE", "/sessions/", false).is_none());
        let (_, params) = find("DELETE", "/sessions/%66%30a%2Fb", false).unwrap();
        assert_eq!(params, vec![("id", "f0a/b".to_owned())]);
        assert!(find("DELETE", "/sessions", false).is_none());
        assert!(find("DELETE", "/sessions/a/b", false).is_none());
        assert_eq!(
            find("GET", "/sessions", false).unwrap().0.function,
            "sessions"
        );
        assert!(find("GET", "/sessions/abc", false).is_none());
        assert_eq!(find("GET", "/", false).unwrap().0.function, "account-page");
        assert!(find("GET", "", false).is_none());
        assert!(find("GET", "//", false).is_none());
        assert!(find("POST", "/", false).is_none());
        assert_eq!(
            find("GET", "/account.js", false).unwrap().0.function,
            "account-page"
        );
        assert!(find("GET", "/account.js/", false).is_none());
        // The operator routes: only on the admin side, and only they are there.
        let path = "/admin/users/alice/disable";
        assert!(find("POST", path, false).is_none());
        let (route, params) = find("POST", path, true).unwrap();
        assert_eq!(
            (route.function, params),
            ("admin", vec![("username", "alice".to_owned())])
        );
        assert!(find("POST", "/login", true).is_none());
        assert!(find("GET", "/admin/users/alice/disable", true).is_none());
    }
}
