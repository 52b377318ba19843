//! Sessions: every page needs one; login failures and their limit; the
//! cookie's attributes; logout and revoked tokens end a session.

use super::*;
use hanbao::store::Tokens;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_needs_an_administrator_session() {
    let s = start().await;
    let r = s.get("/", None).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/dashboard")));
    for path in [
        "/dashboard",
        Q1,
        "/dashboard/export.csv",
        "/dashboard/units/so-yte",
        YTE_Q1,
        "/dashboard/outbox",
        "/dashboard/compliance",
        "/dashboard/compliance.csv",
        "/dashboard/compliance.xlsx",
    ] {
        let r = s.get(path, None).await;
        assert_eq!(r.status, 303, "{path}");
        assert_eq!(r.header("location"), Some("/dashboard/login"), "{path}");
        // A cookie the server never issued is no session either.
        let r = s
            .get(path, Some("hanbao_session=00112233445566778899"))
            .await;
        assert_eq!(r.status, 303, "{path} with a forged cookie");
    }
    // Posts without a session write nothing.
    for (path, fields) in [
        (
            format!("{YTE_Q1}/submission"),
            vec![("csrf", "x"), ("received_on", "2026-03-19")],
        ),
        (
            format!("{YTE_Q1}/waiver"),
            vec![("csrf", "x"), ("reason", "r")],
        ),
        ("/dashboard/outbox/1/retry".to_string(), vec![("csrf", "x")]),
        ("/dashboard/logout".to_string(), vec![("csrf", "x")]),
    ] {
        let r = s.post(&path, None, &fields).await;
        assert_eq!(r.status, 303, "{path}");
        assert_eq!(r.header("location"), Some("/dashboard/login"));
    }
    assert!(s.history("so-yte").await.is_empty());
    // The login page itself is public, in Vietnamese, for phones, and
    // carries the security headers.
    let r = s.get("/dashboard/login", None).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<html lang=\"vi\">"));
    assert!(r.body.contains("name=\"viewport\""));
    assert!(r.body.contains("Mã quản trị"));
    assert!(!r.body.contains("<script"), "no JavaScript");
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let csp = r.header("content-security-policy").unwrap();
    assert!(
        csp.starts_with("default-src 'none'; style-src 'sha256-"),
        "{csp}"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_failures_are_refused_and_limited() {
    let s = start().await;
    let wrong = format!("{}0", &s.admin[..s.admin.len() - 1]);
    let wrong = if wrong == s.admin {
        format!("{}1", &s.admin[..s.admin.len() - 1])
    } else {
        wrong
    };
    let mut failures = 0;
    for (secret, status, text) in [
        (wrong.as_str(), 401, "Mã không đúng hoặc đã bị thu hồi."),
        (s.revoked.as_str(), 401, "Mã không đúng hoặc đã bị thu hồi."),
        ("", 401, "Mã không đúng"),
        (
            s.unit.as_str(),
            403,
            "Mã này là mã của một đơn vị; bảng điều khiển cần mã quản trị.",
        ),
    ] {
        let r = s.post("/dashboard/login", None, &[("token", secret)]).await;
        assert_eq!(r.status, status, "{}", r.body);
        assert!(r.body.contains(text), "{}", r.body);
        assert!(r.header("set-cookie").is_none());
        assert!(
            !r.body.contains(secret) || secret.is_empty(),
            "never echoed"
        );
        if status == 401 {
            failures += 1;
        }
    }
    // Failures count toward the API's limit per client.
    for _ in failures..http::MAX_FAILURES {
        let r = s
            .post("/dashboard/login", None, &[("token", "hanbao_nope")])
            .await;
        assert_eq!(r.status, 401);
    }
    let r = s
        .post("/dashboard/login", None, &[("token", "hanbao_nope")])
        .await;
    assert_eq!(r.status, 429, "one failure too many: {}", r.body);
    assert!(r.header("retry-after").is_some());
    assert!(r.body.contains("Đăng nhập sai quá nhiều lần"));
    // The right token is checked first: never refused for others' failures.
    let r = s
        .post("/dashboard/login", None, &[("token", &s.admin)])
        .await;
    assert_eq!(r.status, 303, "the right token logs in: {}", r.body);
    // A login form posted from another site is refused before anything.
    let r = send(
        s.addr,
        "POST",
        "/dashboard/login",
        None,
        &[("Origin", "http://evil.example")],
        Some(&form(&[("token", &s.admin)])),
    )
    .await;
    assert_eq!(r.status, 403);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_sets_a_strict_cookie_and_logout_ends_the_session() {
    let s = start().await;
    let r = s
        .post("/dashboard/login", None, &[("token", &s.admin)])
        .await;
    assert_eq!(r.status, 303);
    let set = r.header("set-cookie").unwrap();
    assert!(set.starts_with("hanbao_session="), "{set}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{set} lacks {attr}");
    }
    let id = set.split(';').next().unwrap()["hanbao_session=".len()..].to_string();
    assert_eq!(id.len(), 64);
    assert!(!id.contains(&s.admin[7..]), "the cookie is not the token");
    let cookie = format!("hanbao_session={id}");
    let page = s.get("/dashboard", Some(&cookie)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Đăng xuất (Điều phối)"));
    // Behind an HTTPS proxy the cookie is Secure.
    let r = send(
        s.addr,
        "POST",
        "/dashboard/login",
        None,
        &[("X-Forwarded-Proto", "https")],
        Some(&form(&[("token", &s.admin)])),
    )
    .await;
    assert!(r.header("set-cookie").unwrap().ends_with("; Secure"));
    // Logout needs the CSRF token.
    let r = s
        .post("/dashboard/logout", Some(&cookie), &[("csrf", "bad")])
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(s.get("/dashboard", Some(&cookie)).await.status, 200);
    let r = s
        .post(
            "/dashboard/logout",
            Some(&cookie),
            &[("csrf", &page.csrf())],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/dashboard/login?out=1"));
    assert!(r.header("set-cookie").unwrap().contains("Max-Age=0"));
    let r = s.get("/dashboard", Some(&cookie)).await;
    assert_eq!(r.status, 303, "the old cookie is dead");
    assert!(
        s.get("/dashboard/login?out=1", None)
            .await
            .body
            .contains("Đã đăng xuất.")
    );
    // Revoking the token ends its sessions at once.
    let cookie = s.login(&s.admin).await;
    assert_eq!(s.get("/dashboard", Some(&cookie)).await.status, 200);
    s.store
        .revoke_token(s.admin_id, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(s.get("/dashboard", Some(&cookie)).await.status, 303);
    s.shutdown().await;
}
