//! The two-factor state on the revocation marker (`auth::store::SecondFactor`), the same cases
//! on every store: memory, moto, and dynalite for the races (its writes are atomic per item,
//! as DynamoDB's are). Also: a marker carrying the state still decides sessions as before, on
//! the authorizer's direct read too.

use auth::clock;
use auth::store::memory::{MemorySessions, MemoryUsers};
use auth::store::{
    AccountsOver, DeleteAccount, Proof, SessionLookup, SessionStore, Totp, UserRecord, UserStore,
};
use auth::{UserId, Username};
use auth_testing::{TestTables, new_session, put_session, unique_username};

const SEALED: &str = "v1.sealed-secret";
const OTHER: &str = "v1.another-secret";

/// Turns TOTP on for `owner` with the secret `SEALED`, as enrolment and confirmation do: `step`
/// used, `recovery` the recovery codes' hashes.
async fn turn_on<S: SessionStore + Sync>(
    sessions: &S,
    owner: &UserId,
    step: i64,
    recovery: &str,
    now: i64,
) {
    assert!(sessions.begin_totp(owner, SEALED, now + 600).await.unwrap());
    assert!(
        sessions
            .confirm_totp(owner, SEALED, step, recovery, now)
            .await
            .unwrap()
    );
}

async fn enrol_confirm_use_and_turn_off<S: SessionStore + Sync>(sessions: S) {
    let owner = UserId::generate();
    let now = clock::now();
    assert_eq!(sessions.marker(&owner).await.unwrap().totp, Totp::default());

    // Enrol (creating the marker at generation 0), then again: the newer enrolment wins.
    assert!(sessions.begin_totp(&owner, OTHER, now + 600).await.unwrap());
    assert!(
        sessions
            .begin_totp(&owner, SEALED, now + 600)
            .await
            .unwrap()
    );
    let marker = sessions.marker(&owner).await.unwrap();
    assert_eq!(marker.generation, 0);
    assert_eq!(marker.totp.pending, Some((SEALED.to_owned(), now + 600)));
    assert!(!marker.totp.is_on());

    // Confirming the replaced one, or after the end, does nothing.
    assert!(
        !sessions
            .confirm_totp(&owner, OTHER, 10, "h1 h2", now)
            .await
            .unwrap()
    );
    assert!(
        !sessions
            .confirm_totp(&owner, SEALED, 10, "h1 h2", now + 600)
            .await
            .unwrap()
    );
    assert!(
        sessions
            .confirm_totp(&owner, SEALED, 10, "h1 h2 h3", now)
            .await
            .unwrap()
    );
    let totp = sessions.marker(&owner).await.unwrap().totp;
    assert_eq!(
        totp,
        Totp {
            secret: Some(SEALED.into()),
            pending: None,
            last_step: Some(10),
            recovery: "h1 h2 h3".into(),
            challenge: None,
        }
    );
    // On: no second enrolment, no second confirmation.
    assert!(!sessions.begin_totp(&owner, OTHER, now + 600).await.unwrap());
    assert!(
        !sessions
            .confirm_totp(&owner, SEALED, 11, "x", now)
            .await
            .unwrap()
    );

    // A challenge is recorded only for the secret as read.
    assert!(!sessions.set_challenge(&owner, OTHER, "c1").await.unwrap());
    assert!(sessions.set_challenge(&owner, SEALED, "c1").await.unwrap());
    let code = |step| Proof::Code {
        secret: SEALED.into(),
        step,
    };
    // Wrong challenge, an old step, the step already used: refused.
    assert!(
        !sessions
            .pass_challenge(&owner, "c0", &code(11))
            .await
            .unwrap()
    );
    assert!(
        !sessions
            .pass_challenge(&owner, "c1", &code(9))
            .await
            .unwrap()
    );
    assert!(
        !sessions
            .pass_challenge(&owner, "c1", &code(10))
            .await
            .unwrap()
    );
    assert!(
        sessions
            .pass_challenge(&owner, "c1", &code(11))
            .await
            .unwrap()
    );
    let totp = sessions.marker(&owner).await.unwrap().totp;
    assert_eq!((totp.last_step, totp.challenge), (Some(11), None));
    // The challenge is used up, whatever the code.
    assert!(
        !sessions
            .pass_challenge(&owner, "c1", &code(12))
            .await
            .unwrap()
    );

    // A newer challenge replaces an older one.
    assert!(sessions.set_challenge(&owner, SEALED, "c2").await.unwrap());
    assert!(sessions.set_challenge(&owner, SEALED, "c3").await.unwrap());
    assert!(
        !sessions
            .pass_challenge(&owner, "c2", &code(12))
            .await
            .unwrap()
    );

    // Recovery codes: used once each; the last one leaves none.
    let recovery = |seen: &str, rest: &str| Proof::Recovery {
        seen: seen.into(),
        rest: rest.into(),
    };
    assert!(
        !sessions
            .pass_challenge(&owner, "c3", &recovery("h1 h2", "h1"))
            .await
            .unwrap()
    );
    assert!(
        sessions
            .pass_challenge(&owner, "c3", &recovery("h1 h2 h3", "h1 h3"))
            .await
            .unwrap()
    );
    assert!(sessions.set_challenge(&owner, SEALED, "c4").await.unwrap());
    assert!(
        !sessions
            .pass_challenge(&owner, "c4", &recovery("h1 h2 h3", "h1 h3"))
            .await
            .unwrap(),
        "the same code twice"
    );
    assert!(
        sessions
            .pass_challenge(&owner, "c4", &recovery("h1 h3", "h3"))
            .await
            .unwrap()
    );
    assert!(sessions.set_challenge(&owner, SEALED, "c5").await.unwrap());
    assert!(
        sessions
            .pass_challenge(&owner, "c5", &recovery("h3", ""))
            .await
            .unwrap()
    );
    let totp = sessions.marker(&owner).await.unwrap().totp;
    assert_eq!(totp.recovery_hashes().count(), 0);
    assert!(totp.is_on());

    // A marker with the state decides sessions as before.
    let mut session = new_session(&owner, "mfa-owner", now + 3600);
    session.mfa = true;
    put_session(&sessions, &session).await;
    match sessions
        .get_session(&session.session_id, &owner, now)
        .await
        .unwrap()
    {
        SessionLookup::Live(s) => assert!(s.mfa, "the session keeps its mfa mark"),
        other => panic!("{other:?}"),
    }

    // Off: only with an unused proof; everything goes, the generation stays.
    assert!(sessions.set_challenge(&owner, SEALED, "c6").await.unwrap());
    let other = Proof::Code {
        secret: OTHER.into(),
        step: 20,
    };
    assert!(
        !sessions.disable_totp(&owner, &other).await.unwrap(),
        "another secret"
    );
    assert!(
        !sessions.disable_totp(&owner, &code(11)).await.unwrap(),
        "a used step"
    );
    assert!(
        !sessions
            .disable_totp(&owner, &recovery("h3", ""))
            .await
            .unwrap(),
        "a used recovery code"
    );
    assert!(sessions.disable_totp(&owner, &code(12)).await.unwrap());
    let marker = sessions.marker(&owner).await.unwrap();
    assert_eq!((marker.generation, marker.totp), (0, Totp::default()));
    assert!(
        !sessions
            .pass_challenge(&owner, "c6", &code(20))
            .await
            .unwrap()
    );
    assert!(!sessions.disable_totp(&owner, &code(13)).await.unwrap());
    // An operator's reset: of a pending enrolment, of a factor that is on; nothing to reset.
    assert!(!sessions.reset_totp(&owner).await.unwrap());
    assert!(
        sessions
            .begin_totp(&owner, SEALED, now + 600)
            .await
            .unwrap()
    );
    assert!(sessions.reset_totp(&owner).await.unwrap());
    assert_eq!(sessions.marker(&owner).await.unwrap().totp, Totp::default());
    turn_on(&sessions, &owner, 30, "h9", now).await;
    assert!(sessions.set_challenge(&owner, SEALED, "c7").await.unwrap());
    assert!(sessions.reset_totp(&owner).await.unwrap());
    assert_eq!(sessions.marker(&owner).await.unwrap().totp, Totp::default());
    assert!(
        !sessions
            .pass_challenge(&owner, "c7", &code(31))
            .await
            .unwrap()
    );
    assert!(matches!(
        sessions
            .get_session(&session.session_id, &owner, now)
            .await
            .unwrap(),
        SessionLookup::Live(_)
    ));
}

/// Deleting the account removes the factor with it, and no enrolment can start afterwards.
async fn deletion_removes_the_factor<U, S>(users: U, sessions: S)
where
    U: UserStore + AccountsOver<S> + Sync,
    U::Accounts: DeleteAccount + Sync,
    S: SessionStore + Sync,
{
    let user = UserRecord {
        user_id: UserId::generate(),
        username: Username::parse(&unique_username("mfa-del")).unwrap(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$b2xkb2xkb2xk".into(),
        created_at: clock::now(),
    };
    users.create_user(&user).await.unwrap();
    let now = clock::now();
    turn_on(&sessions, &user.user_id, 1, "h1", now).await;
    let accounts = users.accounts(&sessions);
    assert_eq!(
        accounts.delete_account(&user, now + 3600).await.unwrap(),
        Some(1)
    );
    let marker = sessions.marker(&user.user_id).await.unwrap();
    assert!(marker.deleted);
    assert_eq!(marker.totp, Totp::default());
    assert!(
        !sessions
            .begin_totp(&user.user_id, SEALED, now + 600)
            .await
            .unwrap()
    );
}

/// Eight requests with one challenge and one code at once: exactly one passes.
async fn one_challenge_one_winner<S: SessionStore + Clone + Send + Sync + 'static>(sessions: S) {
    let owner = UserId::generate();
    let now = clock::now();
    turn_on(&sessions, &owner, 1, "h1 h2", now).await;
    for round in 0..3 {
        let challenge = format!("race-{round}");
        assert!(
            sessions
                .set_challenge(&owner, SEALED, &challenge)
                .await
                .unwrap()
        );
        let proof = if round == 1 {
            Proof::Recovery {
                seen: "h1 h2".into(),
                rest: "h2".into(),
            }
        } else {
            Proof::Code {
                secret: SEALED.into(),
                step: 2 + round,
            }
        };
        let mut racers = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (sessions, owner, challenge, proof) = (
                sessions.clone(),
                owner.clone(),
                challenge.clone(),
                proof.clone(),
            );
            racers.spawn(async move {
                sessions
                    .pass_challenge(&owner, &challenge, &proof)
                    .await
                    .unwrap()
            });
        }
        let winners = racers.join_all().await.into_iter().filter(|w| *w).count();
        assert_eq!(winners, 1, "round {round}");
    }
}

/// A sign-in and turning the factor off with one code at once, four of each: one wins.
async fn sign_in_racing_turning_off<S: SessionStore + Clone + Send + Sync + 'static>(sessions: S) {
    let now = clock::now();
    for round in 0..2 {
        let owner = UserId::generate();
        turn_on(&sessions, &owner, 1, "h1 h2", now).await;
        assert!(sessions.set_challenge(&owner, SEALED, "c").await.unwrap());
        let proof = if round == 0 {
            Proof::Code {
                secret: SEALED.into(),
                step: 2,
            }
        } else {
            Proof::Recovery {
                seen: "h1 h2".into(),
                rest: "h2".into(),
            }
        };
        let mut racers = tokio::task::JoinSet::new();
        for i in 0..8 {
            let (sessions, owner, proof) = (sessions.clone(), owner.clone(), proof.clone());
            racers.spawn(async move {
                if i % 2 == 0 {
                    sessions.pass_challenge(&owner, "c", &proof).await.unwrap()
                } else {
                    sessions.disable_totp(&owner, &proof).await.unwrap()
                }
            });
        }
        let winners = racers.join_all().await.into_iter().filter(|w| *w).count();
        assert_eq!(winners, 1, "round {round}");
    }
}

macro_rules! second_factor {
    ($backend:ident, $users:expr, $sessions:expr) => {
        mod $backend {
            use super::*;

            #[tokio::test]
            async fn enrol_confirm_use_and_turn_off() {
                super::enrol_confirm_use_and_turn_off($sessions).await;
            }
            #[tokio::test]
            async fn deletion_removes_the_factor() {
                let (users, sessions) = $users;
                super::deletion_removes_the_factor(users, sessions).await;
            }
        }
    };
}

second_factor!(
    memory,
    {
        let s = MemorySessions::new();
        (MemoryUsers::new(), s)
    },
    MemorySessions::new()
);
second_factor!(
    dynamodb,
    {
        let t = TestTables::create().await;
        (t.users(), t.sessions())
    },
    TestTables::create().await.sessions()
);
second_factor!(
    dynamodb_direct_reads,
    {
        let t = TestTables::create().await;
        (t.users(), t.sessions())
    },
    TestTables::create().await.sessions_read_directly()
);

mod races {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn memory() {
        one_challenge_one_winner(MemorySessions::new()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn dynalite() {
        one_challenge_one_winner(TestTables::create_on_dynalite().await.sessions()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sign_in_racing_turning_off_in_memory() {
        sign_in_racing_turning_off(MemorySessions::new()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sign_in_racing_turning_off_on_dynalite() {
        sign_in_racing_turning_off(TestTables::create_on_dynalite().await.sessions()).await;
    }
}
