//! The whole flow through the real handlers on DynamoDB (moto), fed with the sample events in
//! `events/`, with the authorizer's context passed on as API Gateway passes it:
//! register → login → authorizer allows → user-info returns the user → logout → the authorizer
//! denies the same token; a second login gets an independent session that survives the first
//! one's logout.

use auth_edge::Function as _;
use auth_testing::{
    TestTables, event, hasher, request, response_json, signer, unique_username, verifier, with_body,
};
use authorizer::{AuthorizerRequest, Deny};
use serde_json::{Value, json};

struct Functions {
    register: register::Handler<auth_sdk::store::DynamoUsers>,
    login: login::Handler<
        auth_sdk::store::DynamoUsers,
        auth_sdk::store::DynamoSessions,
        auth_sdk::store::DynamoAttempts,
    >,
    user_info: user_info::Handler<auth_sdk::store::DynamoUsers>,
    logout: logout::Handler<auth_sdk::store::DynamoSessions>,
    authorizer: authorizer::Handler<auth_sdk::store::DynamoSessions>,
}

impl Functions {
    async fn on_fresh_tables() -> Self {
        let t = TestTables::create().await;
        Self {
            register: register::Handler::new(t.users(), hasher()),
            login: login::Handler::new(
                t.users(),
                t.sessions(),
                t.attempts(),
                hasher(),
                signer(),
                30 * 24 * 3600,
            ),
            user_info: user_info::Handler::new(t.users()),
            logout: logout::Handler::new(t.sessions()),
            authorizer: authorizer::Handler::new(t.sessions(), verifier()),
        }
    }

    async fn login(&self, creds: &str) -> String {
        let (status, body) = response_json(
            &self
                .login
                .handle(request(&with_body(event("login.json"), creds)))
                .await,
        );
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Runs the authorizer on the sample event with `token`; on an allow returns `downstream`
    /// with the authorizer's context in `requestContext.authorizer.lambda`, as API Gateway does.
    async fn authorize(&self, token: &str, downstream: &str) -> Result<Value, Deny> {
        let mut e = event("authorizer-valid.json");
        let header = format!("Bearer {token}");
        e["headers"]["authorization"] = header.clone().into();
        e["identitySource"] = json!([header]);
        let req: AuthorizerRequest = serde_json::from_value(e).unwrap();
        self.authorizer.decide(&req).await?;
        let response = self.authorizer.handle(req).await;
        assert!(response.is_authorized);
        let mut e = event(downstream);
        e["headers"]["authorization"] = format!("Bearer {token}").into();
        e["requestContext"]["authorizer"] = json!({ "lambda": response.context });
        Ok(e)
    }
}

#[tokio::test]
async fn register_login_me_logout_on_dynamodb() {
    let f = Functions::on_fresh_tables().await;
    let name = unique_username("flow");
    let creds = json!({"username": name, "password": "correct horse battery staple"}).to_string();

    let (status, registered) = response_json(
        &f.register
            .handle(request(&with_body(event("register.json"), &creds)))
            .await,
    );
    assert_eq!(status, 201, "{registered}");

    let first = f.login(&creds).await;
    let second = f.login(&creds).await;

    let me_event = f.authorize(&first, "me.json").await.expect("allowed");
    assert_eq!(
        me_event["requestContext"]["authorizer"]["lambda"]["user_id"],
        registered["user_id"]
    );
    let (status, me) = response_json(&f.user_info.handle(request(&me_event)).await);
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["user_id"], registered["user_id"]);
    assert_eq!(me["username"], name);

    let logout_event = f.authorize(&first, "logout.json").await.expect("allowed");
    let (status, _) = response_json(&f.logout.handle(request(&logout_event)).await);
    assert_eq!(status, 204);

    // The same token is denied at once; the second session is not affected.
    assert_eq!(
        f.authorize(&first, "me.json").await.unwrap_err(),
        Deny::NoSession
    );
    let me_event = f
        .authorize(&second, "me.json")
        .await
        .expect("second session survives");
    assert_eq!(
        response_json(&f.user_info.handle(request(&me_event)).await).0,
        200
    );
}
