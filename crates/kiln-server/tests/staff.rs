//! People, not keys (issue 16): staff sign in with an email and a password
//! into a server-side session, each role does its job only, a store clerk
//! sees their own store's orders only, sign-in is rate-limited without
//! telling which emails have accounts, and a removed member is out at once.
//! Runs on SQLite and, with `KILN_TEST_POSTGRES`, PostgreSQL.

mod common;

use common::*;
use kiln_app::staff::DEMO_PASSWORD;
use reqwest::StatusCode;
use serde_json::json;

api_tests!(
    staff_sign_in_by_email_and_password_into_a_session,
    sign_in_is_limited_and_says_nothing_of_which_emails_exist,
    each_role_does_its_job_only,
    a_store_clerk_sees_their_own_store_only,
    a_removed_member_is_out_at_once,
    an_invited_person_sets_a_password_and_resets_it_by_mail,
    every_console_and_store_route_is_checked_for_every_role,
);

fn email(app: &App, who: &str) -> String {
    format!("{who}@{}.kiln.example", app.slug)
}

/// Signs in; the session cookie (`name=value`), or the refusal's status and page.
async fn sign_in(app: &App, who: &str, password: &str) -> Result<String, (StatusCode, String)> {
    let r = no_redirects()
        .post(format!("{}/sign-in", app.base))
        .form(&[
            ("email", email(app, who).as_str()),
            ("password", password),
            ("next", "/console"),
        ])
        .send()
        .await
        .unwrap();
    if r.status() != StatusCode::SEE_OTHER {
        return Err((r.status(), r.text().await.unwrap()));
    }
    let set = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("kiln_staff="))
        .expect("a session cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    Ok(set.split(';').next().unwrap().to_string())
}

async fn staffed(app: &App) {
    app.kiln
        .seed_demo_staff(&app.slug)
        .await
        .expect("demo staff");
}

async fn page(app: &App, cookie: &str, path: &str) -> (StatusCode, String) {
    let r = no_redirects()
        .get(format!("{}{path}", app.base))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn post(app: &App, cookie: &str, path: &str, form: &[(&str, &str)]) -> StatusCode {
    no_redirects()
        .post(format!("{}{path}", app.base))
        .header(reqwest::header::COOKIE, cookie)
        .form(form)
        .send()
        .await
        .unwrap()
        .status()
}

async fn staff_sign_in_by_email_and_password_into_a_session(app: App) {
    staffed(&app).await;
    let cookie = sign_in(&app, "planner", DEMO_PASSWORD)
        .await
        .expect("signs in");
    assert!(!cookie.contains(DEMO_PASSWORD) && !cookie.contains(&app.key));
    let (status, console) = page(&app, &cookie, "/console").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        console.contains("Schedule by work centre"),
        "not the console"
    );
    // Signing out ends the session on the server: the old cookie opens nothing.
    assert!(
        post(&app, &cookie, "/console/sign-out", &[])
            .await
            .is_redirection()
    );
    let (_, after) = page(&app, &cookie, "/console").await;
    assert!(
        after.contains("type=\"password\""),
        "still signed in after signing out"
    );
    // Sign out everywhere ends every session of the person.
    let a = sign_in(&app, "planner", DEMO_PASSWORD).await.unwrap();
    let b = sign_in(&app, "planner", DEMO_PASSWORD).await.unwrap();
    assert!(
        post(&app, &a, "/sign-out-everywhere", &[])
            .await
            .is_redirection()
    );
    let (_, other) = page(&app, &b, "/console").await;
    assert!(
        other.contains("type=\"password\""),
        "another session survived"
    );
}

async fn sign_in_is_limited_and_says_nothing_of_which_emails_exist(app: App) {
    staffed(&app).await;
    let (s1, wrong) = sign_in(&app, "analyst", "not the password at all")
        .await
        .unwrap_err();
    let (s2, unknown) = sign_in(&app, "nobody", "not the password at all")
        .await
        .unwrap_err();
    assert_eq!(
        (s1, s2),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    let said = |page: &str| {
        let at = page.find("role=\"alert\">").expect("a message") + 13;
        page[at..at + page[at..].find('<').unwrap()].to_string()
    };
    assert_eq!(
        said(&wrong),
        said(&unknown),
        "the answer tells which emails exist"
    );
    // Failures are counted in the store: guesses spread over another
    // server on it count the same.
    let other = app.restarted().await;
    for _ in 0..4 {
        let _ = sign_in(&other, "analyst", "still not the password").await;
    }
    // Five failures: the right password is refused too, for a while, on
    // every server.
    let (status, _) = sign_in(&other, "analyst", DEMO_PASSWORD).await.unwrap_err();
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, page) = sign_in(&app, "analyst", DEMO_PASSWORD).await.unwrap_err();
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.contains("Too many failed sign-ins"));
    // Another account is not locked by it.
    sign_in(&app, "operator", DEMO_PASSWORD)
        .await
        .expect("another account signs in");
}

async fn each_role_does_its_job_only(app: App) {
    staffed(&app).await;
    let day = today_plus(9);
    let downtime = [
        ("work_center", "kiln"),
        ("from", day.as_str()),
        ("to", day.as_str()),
        ("reason", "roles"),
    ];
    let count = || async {
        app.get("/downtimes").await.body["downtimes"]
            .as_array()
            .unwrap()
            .len()
    };
    let n0 = count().await;
    let analyst = sign_in(&app, "analyst", DEMO_PASSWORD).await.unwrap();
    assert_eq!(
        page(&app, &analyst, "/console/orders").await.0,
        StatusCode::OK
    );
    assert_eq!(
        post(&app, &analyst, "/console/downtimes", &downtime).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(count().await, n0, "the analyst changed something");
    let operator = sign_in(&app, "operator", DEMO_PASSWORD).await.unwrap();
    assert_eq!(page(&app, &operator, "/console").await.0, StatusCode::OK);
    assert_eq!(
        page(&app, &operator, "/console/orders").await.0,
        StatusCode::FORBIDDEN
    );
    let order = app.place_ok(&mug("roles@example.com")).await;
    assert_eq!(
        post(
            &app,
            &operator,
            &format!("/console/orders/{order}/ship"),
            &[("carrier", "DHL"), ("tracking", "1")]
        )
        .await,
        StatusCode::FORBIDDEN,
        "an operator shipped"
    );
    let wo = work_orders_of(&app.order(&order).await).remove(0);
    let started = post(
        &app,
        &operator,
        &format!("/console/work-orders/{wo}/operations/1/start"),
        &[],
    )
    .await;
    assert!(
        started.is_redirection(),
        "the operator cannot start an operation: {started}"
    );
    let planner = sign_in(&app, "planner", DEMO_PASSWORD).await.unwrap();
    assert!(
        post(&app, &planner, "/console/downtimes", &downtime)
            .await
            .is_redirection()
    );
    assert_eq!(count().await, n0 + 1);
    // The audit log names the person behind a change.
    let id = app.get("/downtimes").await.body["downtimes"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        post(
            &app,
            &planner,
            &format!("/console/downtimes/{id}/cancel"),
            &[]
        )
        .await
        .is_redirection()
    );
    let audit = app.get("/audit").await.expect(StatusCode::OK).text;
    assert!(
        audit.contains(&format!("staff:{} (planner)", email(&app, "planner"))),
        "{audit}"
    );
    assert_eq!(
        post(&app, &planner, "/console/catalog", &[]).await,
        StatusCode::FORBIDDEN
    );
    let clerk = sign_in(&app, "clerk", DEMO_PASSWORD).await.unwrap();
    assert_eq!(
        page(&app, &clerk, "/console").await.0,
        StatusCode::FORBIDDEN
    );
    // Each console offers only what its role may do.
    let (_, read_only) = page(&app, &analyst, "/console").await;
    assert!(
        !read_only.contains("action=\"/console/downtimes\""),
        "the analyst is offered a downtime form"
    );
    let (_, queues) = page(&app, &operator, "/console").await;
    assert!(queues.contains("/operations/") && !queues.contains("Latest orders"));
    let admin = sign_in(&app, "admin", DEMO_PASSWORD).await.unwrap();
    // An admin cannot remove their own account.
    let me = app
        .kiln
        .staff(&app.slug)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.role == kiln_domain::Role::Admin)
        .unwrap();
    let _ = post(
        &app,
        &admin,
        &format!("/console/staff/{}/remove", me.id),
        &[],
    )
    .await;
    assert_eq!(
        page(&app, &admin, "/console").await.0,
        StatusCode::OK,
        "the admin removed themselves"
    );
    assert_eq!(
        page(&app, &admin, "/console/webhooks").await.0,
        StatusCode::OK
    );
}

/// A store order, placed with the brand key as the API requires.
async fn keyed_order(app: &App, body: &serde_json::Value) -> String {
    let path = format!("/api/v1/brands/{}/orders", app.slug);
    app.call("POST", &path, Some(&app.key), Some(body))
        .await
        .expect(StatusCode::CREATED)
        .body["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn a_store_clerk_sees_their_own_store_only(app: App) {
    staffed(&app).await;
    let members = app.kiln.staff(&app.slug).await.unwrap();
    let clerk = members
        .iter()
        .find(|m| m.role == kiln_domain::Role::StoreClerk)
        .unwrap();
    let own = clerk.stores[0].clone();
    let stores: Vec<String> = app
        .kiln
        .stores(&app.slug)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    let other = stores
        .iter()
        .find(|s| **s != own)
        .expect("a second store")
        .clone();
    let at = |store: &str, email: &str, name: &str| {
        let mut body = mug(email);
        body["channel"] = json!("store");
        body["store_id"] = json!(store);
        body["customer"]["name"] = json!(name);
        body
    };
    let mine = keyed_order(&app, &at(&own, "own@example.com", "Own Shopper")).await;
    let theirs = keyed_order(&app, &at(&other, "other@example.com", "Other Shopper")).await;
    let cookie = sign_in(&app, "clerk", DEMO_PASSWORD).await.unwrap();
    let (status, home) = page(&app, &cookie, "/store").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        home.contains("Find a customer"),
        "the clerk is not at their store"
    );
    assert!(!home.to_lowercase().contains(&format!("work at {other}")));
    let (_, found) = page(&app, &cookie, "/store?customer=own%40example.com").await;
    assert!(found.contains(&mine));
    for q in ["other%40example.com", "Other+Shopper"] {
        let (_, found) = page(&app, &cookie, &format!("/store?customer={q}")).await;
        assert!(
            !found.contains(&theirs)
                && !found.contains("Other Shopper<")
                && !found.contains("<strong>Other"),
            "{q}"
        );
    }
    assert_eq!(
        page(&app, &cookie, &format!("/store/orders/{theirs}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        page(&app, &cookie, &format!("/store/orders/{mine}"))
            .await
            .0,
        StatusCode::OK
    );
    // Choosing the other store does not open it.
    let _ = post(&app, &cookie, "/store/choose", &[("store", other.as_str())]).await;
    let (_, still) = page(&app, &cookie, "/store?customer=other%40example.com").await;
    assert!(!still.contains(&theirs));
}

async fn a_removed_member_is_out_at_once(app: App) {
    staffed(&app).await;
    let cookie = sign_in(&app, "operator", DEMO_PASSWORD).await.unwrap();
    assert_eq!(page(&app, &cookie, "/console").await.0, StatusCode::OK);
    let members = app.kiln.staff(&app.slug).await.unwrap();
    let operator = members
        .iter()
        .find(|m| m.role == kiln_domain::Role::Operator)
        .unwrap();
    app.kiln
        .remove_staff(&kiln_app::Actor::Cli, &app.slug, &operator.id)
        .await
        .unwrap();
    let (_, page_after) = page(&app, &cookie, "/console").await;
    assert!(
        page_after.contains("type=\"password\""),
        "a removed member is still in"
    );
    assert_eq!(
        sign_in(&app, "operator", DEMO_PASSWORD)
            .await
            .unwrap_err()
            .0,
        StatusCode::UNAUTHORIZED
    );
}

/// The newest mail to `to` in the app's mail directory, and the link's token.
fn mailed_token(app: &App, to: &str) -> Option<String> {
    let dir = app.kiln.mail_dir()?;
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    let text = files
        .iter()
        .rev()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .find(|t| t.contains(&format!("To: {to}\r\n")))?;
    let at = text.find("token=")? + 6;
    Some(
        text[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect(),
    )
}

async fn an_invited_person_sets_a_password_and_resets_it_by_mail(app: App) {
    staffed(&app).await;
    let admin = sign_in(&app, "admin", DEMO_PASSWORD).await.unwrap();
    let to = email(&app, "newplanner");
    let invited = post(
        &app,
        &admin,
        "/console/staff",
        &[
            ("name", "Nia New"),
            ("email", to.as_str()),
            ("role", "planner"),
            ("store", ""),
        ],
    )
    .await;
    assert!(invited.is_redirection());
    let (_, list) = page(&app, &admin, "/console/staff").await;
    assert!(
        list.contains("Nia New") && list.contains("invited"),
        "not listed as invited"
    );
    let token = mailed_token(&app, &to).expect("an invitation mail with a link");
    // Not signed in before a password is set.
    assert!(
        sign_in(&app, "newplanner", "anything at all here")
            .await
            .is_err()
    );
    let set = |token: String, password: &'static str| {
        let app = &app;
        async move {
            no_redirects()
                .post(format!("{}/staff/password", app.base))
                .form(&[
                    ("token", token.as_str()),
                    ("password", password),
                    ("again", password),
                ])
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    assert!(
        set(token.clone(), "password1234")
            .await
            .contains("common passwords")
    );
    assert!(
        set(token.clone(), "a long enough new secret")
            .await
            .contains("Your password is set")
    );
    assert!(
        set(token.clone(), "another long new secret")
            .await
            .contains("expired or was used")
    );
    let session = sign_in(&app, "newplanner", "a long enough new secret")
        .await
        .expect("signs in");
    assert_eq!(page(&app, &session, "/console").await.0, StatusCode::OK);
    // The planner cannot manage staff.
    assert_eq!(
        page(&app, &session, "/console/staff").await.0,
        StatusCode::FORBIDDEN
    );

    // A reset: the same answer for an unknown email, which gets no mail.
    let forgot = |email: String| {
        let app = &app;
        async move {
            no_redirects()
                .post(format!("{}/sign-in/forgot", app.base))
                .form(&[("email", email.as_str())])
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let unknown = email(&app, "nobody");
    let (a, b) = (forgot(unknown.clone()).await, forgot(to.clone()).await);
    assert!(a.contains("If that email has a staff account") && a == b);
    assert!(mailed_token(&app, &unknown).is_none());
    let reset = mailed_token(&app, &to).expect("a reset mail");
    assert_ne!(reset, token);
    assert!(
        set(reset, "my newer long secret")
            .await
            .contains("Your password is set")
    );
    // Resetting ends the sessions the person had.
    let (_, after) = page(&app, &session, "/console").await;
    assert!(
        after.contains("type=\"password\""),
        "a session survived the reset"
    );
    assert!(
        sign_in(&app, "newplanner", "my newer long secret")
            .await
            .is_ok()
    );
}

/// Every console and store mode route, with the roles that may use it:
/// A admin, M product manager, P planner, O operator, C store clerk, Y
/// analyst. Sample ids need not exist: a refusal by role comes first.
const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/console", "AMPOY"),
    ("GET", "/console/gantt", "AMPOY"),
    ("POST", "/console/sign-in", "A"),
    ("POST", "/console/sign-out", "AMPOCY"),
    ("GET", "/console/orders", "AMPY"),
    ("GET", "/console/orders/ord_x", "AMPY"),
    ("GET", "/console/orders/ord_x/ship", "AMPY"),
    ("POST", "/console/orders/ord_x/ship", "AP"),
    ("POST", "/console/orders/ord_x/paid", "AP"),
    ("POST", "/console/orders/ord_x/lines/1", "AP"),
    ("POST", "/console/orders/ord_x/lines/1/cancel", "AP"),
    ("GET", "/console/orders/ord_x/labels", "AMPY"),
    ("POST", "/console/shipments/shp_x/delivered", "AP"),
    (
        "POST",
        "/console/work-orders/wo_x/operations/1/start",
        "APO",
    ),
    ("GET", "/console/work-orders/wo_x/labels", "AMPY"),
    ("GET", "/console/shipments/shp_x/label.svg", "AMPY"),
    ("GET", "/console/units/S1/label", "AMPY"),
    ("POST", "/console/units/S1/claims", "AP"),
    ("GET", "/console/claims", "AMPY"),
    ("POST", "/console/claims/clm_x/decision", "AP"),
    ("POST", "/console/downtimes", "AP"),
    ("POST", "/console/downtimes/dwn_x/cancel", "AP"),
    ("POST", "/console/resequence", "AP"),
    ("POST", "/console/purchase-suggestions/pur_x/receive", "AP"),
    ("POST", "/console/purchase-suggestions/pur_x/delay", "AP"),
    ("GET", "/console/demand", "AMPY"),
    ("POST", "/console/demand/purchases", "AP"),
    ("GET", "/console/material-plan", "AMPY"),
    ("GET", "/console/catalog", "AMPY"),
    ("POST", "/console/catalog", "AM"),
    ("GET", "/console/webhooks", "AMPY"),
    ("POST", "/console/webhooks/wh_x/replay", "A"),
    ("GET", "/console/bulk", "AMPY"),
    ("POST", "/console/bulk", "AP"),
    ("POST", "/console/bulk/quo_x/accept", "AP"),
    ("GET", "/console/business-customers", "AMPY"),
    ("GET", "/console/profiles", "AMPY"),
    ("GET", "/console/segments", "AMPY"),
    ("GET", "/console/stores", "AMPY"),
    ("GET", "/console/stores/london", "AMPY"),
    ("GET", "/console/profiles/prf_x", "AMPY"),
    ("POST", "/console/profiles/prf_x/erase", "A"),
    ("POST", "/console/profiles/prf_x/merges/mrg_x/undo", "A"),
    ("POST", "/console/business-customers", "AP"),
    ("GET", "/console/staff", "A"),
    ("POST", "/console/staff", "A"),
    ("POST", "/console/staff/stf_x/remove", "A"),
    ("GET", "/store", "AC"),
    ("POST", "/store/sign-in", "AC"),
    ("POST", "/store/choose", "AC"),
    ("POST", "/store/sign-out", "AMPOCY"),
    ("GET", "/store/p/mug", "AC"),
    ("GET", "/store/p/mug/panel", "AC"),
    ("POST", "/store/orders", "AC"),
    ("GET", "/store/orders/ord_x", "AC"),
    ("POST", "/store/orders/ord_x/paid", "AC"),
    ("GET", "/store/claims", "AC"),
    ("POST", "/store/claims", "AC"),
    ("GET", "/store/claims/clm_x", "AC"),
];

/// The routes the web UI's source declares under /console and /store, as
/// `(METHOD, path)`: read from `src/ui/*.rs`, so a new route that is not in
/// [`ROUTES`] fails the walk below.
fn declared_routes() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui");
    let mut out = Vec::new();
    for file in std::fs::read_dir(dir).unwrap().flatten() {
        let text = std::fs::read_to_string(file.path()).unwrap();
        for part in text.split(".route(").skip(1) {
            let Some(path) = part
                .trim_start()
                .strip_prefix('"')
                .and_then(|p| p.split('"').next())
            else {
                continue;
            };
            if !(path.starts_with("/console") || path.starts_with("/store")) {
                continue;
            }
            // The route's own methods: up to the end of `routes()`.
            let methods = part.split("\n}").next().unwrap_or_default();
            for (token, method) in [("get(", "GET"), ("post(", "POST"), ("delete(", "DELETE")] {
                if methods.contains(token) {
                    out.push((method.to_string(), path.to_string()));
                }
            }
        }
    }
    out
}

/// The route pattern of a walked path (`/console/orders/ord_x` →
/// `/console/orders/{order}`), segment by segment.
fn fits(pattern: &str, path: &str) -> bool {
    let (p, q): (Vec<_>, Vec<_>) = (pattern.split('/').collect(), path.split('/').collect());
    p.len() == q.len() && p.iter().zip(&q).all(|(a, b)| a.starts_with('{') || a == b)
}

async fn every_console_and_store_route_is_checked_for_every_role(app: App) {
    // The table covers every declared route.
    for (method, pattern) in declared_routes() {
        assert!(
            ROUTES
                .iter()
                .any(|(m, p, _)| *m == method && fits(&pattern, p)),
            "{method} {pattern} is not in ROUTES: say which roles may use it"
        );
    }
    staffed(&app).await;
    let roles = [
        ('A', "admin"),
        ('M', "products"),
        ('P', "planner"),
        ('O', "operator"),
        ('C', "clerk"),
        ('Y', "analyst"),
    ];
    for (code, who) in roles {
        let cookie = sign_in(&app, who, DEMO_PASSWORD).await.unwrap();
        for (method, path, allowed) in ROUTES {
            // Signing out ends the session the walk needs: checked above.
            if path.ends_with("/sign-out") {
                continue;
            }
            let req = no_redirects()
                .request(
                    reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                    format!("{}{path}", app.base),
                )
                .header(reqwest::header::COOKIE, &cookie);
            let req = if *method == "POST" {
                req.form(&[("x", "1")])
            } else {
                req
            };
            let r = req.send().await.unwrap();
            let status = r.status();
            let refused = status == StatusCode::FORBIDDEN
                && r.text().await.unwrap().contains("Not for your role");
            assert_eq!(
                !refused,
                allowed.contains(code),
                "{who} {method} {path}: {status}"
            );
        }
    }
}
