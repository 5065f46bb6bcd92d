//! The API's routes, as `template.yaml` deploys them.

/// One route of the HTTP API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Exact path (HTTP API routes here have no parameters).
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
];

/// The route for `method` and `path`, matched exactly as API Gateway HTTP APIs match routes
/// without parameters (no trailing-slash or case folding).
pub fn find(method: &str, path: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.method == method && r.path == path)
}
