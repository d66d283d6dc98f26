//! Teams and who may do what: teams per environment over the API, the team an approval names
//! deciding it (and being told, in-app and by real SMTP), an admin's audited override, the
//! deploy-time warning for a team that does not exist, and environment admins against owners.

use serde_json::{Value, json};

use crate::actions::Smtp;
use crate::serve::{
    Server, on_both_backends, poll, scratch, session_token as token, sign_in as login,
};

/// A new key of the default tenant: its secret.
fn key(server: &Server, by: &str, body: Value) -> String {
    let (status, made) = server.with(by, "POST", "/api/v1/api-keys", Some(body));
    assert_eq!(status, 201, "{made}");
    made["key"].as_str().unwrap().to_owned()
}

/// The audit records of one action, newest first.
fn audited(server: &Server, by: &str, action: &str) -> Vec<Value> {
    let (status, log) = server.with(by, "GET", &format!("/api/v1/audit?action={action}"), None);
    assert_eq!(status, 200, "{log}");
    log["audit"].as_array().unwrap().clone()
}

#[test]
fn teams_are_kept_per_environment_and_bad_input_writes_nothing() {
    on_both_backends("teams", &[("WEIR_ADMIN_KEY", "teams-root")], |server, _| {
        let root = "teams-root";
        let call =
            |method: &str, path: &str, body: Option<Value>| server.with(root, method, path, body);
        let user = |email: &str, environment: Option<&str>| {
            let mut body = json!({"email": email, "password": "team password 1", "role": "operator", "name": email.to_uppercase()});
            if let Some(env) = environment {
                body["environment"] = json!(env);
            }
            let (status, made) = call("POST", "/api/v1/users", Some(body));
            assert_eq!(status, 201, "{made}");
            made["id"].as_str().unwrap().to_owned()
        };
        let ana = user("ana@example.com", None);
        let bob = user("bob@example.com", Some("development"));

        let (status, team) = call(
            "POST",
            "/api/v1/teams",
            Some(
                json!({"name": "sales_manager", "members": ["ANA@example.com"], "description": "Approves big orders"}),
            ),
        );
        assert_eq!(status, 201, "{team}");
        assert_eq!(
            team["members"],
            json!([{"id": ana, "email": "ana@example.com", "name": "ANA@EXAMPLE.COM", "disabled": false}])
        );
        assert_eq!(team["description"], "Approves big orders");
        assert!(team["created_at"].is_string() && team["updated_at"].is_string());
        let (status, taken) = call(
            "POST",
            "/api/v1/teams",
            Some(json!({"name": "sales_manager", "members": []})),
        );
        assert_eq!((status, &taken["error"]["code"]), (409, &json!("conflict")));

        // Bad input is named precisely and writes nothing.
        for (body, paths) in [
            (json!({"name": "Sales", "members": []}), vec!["$.name"]),
            (json!({"name": "operator", "members": []}), vec!["$.name"]),
            (
                json!({"name": "x".repeat(65), "members": []}),
                vec!["$.name"],
            ),
            (json!({"members": []}), vec!["$.name"]),
            (json!({"name": "ops"}), vec!["$.members"]),
            (
                json!({"name": "ops", "members": "ana@example.com"}),
                vec!["$.members"],
            ),
            (
                json!({"name": "ops", "members": [ana, "ghost@example.com", 5, ""]}),
                vec!["$.members[1]", "$.members[2]", "$.members[3]"],
            ),
            // Bob works in development only: he is not a user of this environment.
            (
                json!({"name": "ops", "members": [bob]}),
                vec!["$.members[0]"],
            ),
            (
                json!({"name": "ops", "members": [], "description": ""}),
                vec!["$.description"],
            ),
            (
                json!({"name": "ops", "members": [], "owner": "me"}),
                vec!["$.owner"],
            ),
        ] {
            let (status, err) = call("POST", "/api/v1/teams", Some(body.clone()));
            let got: Vec<&str> = err["error"]["details"]
                .as_array()
                .unwrap_or_else(|| panic!("{body}: {status} {err}"))
                .iter()
                .map(|d| d["path"].as_str().unwrap())
                .collect();
            assert_eq!((status, got), (422, paths), "{body}: {err}");
        }
        let (_, err) = call(
            "POST",
            "/api/v1/teams",
            Some(json!({"name": "ops", "members": ["ghost@example.com"]})),
        );
        assert!(
            err["error"]["details"][0]["message"]
                .as_str()
                .unwrap()
                .contains("'ghost@example.com'"),
            "the member is named: {err}"
        );
        assert_eq!(
            server
                .call(
                    "POST",
                    "/api/v1/teams",
                    Some(root),
                    Some("application/json"),
                    b"{\"name\": "
                )
                .0,
            400
        );
        let (_, listed) = call("GET", "/api/v1/teams", None);
        assert_eq!(listed["teams"].as_array().unwrap().len(), 1, "{listed}");

        // Replacing: members and description, the name only as in the path.
        let path = "/api/v1/teams/sales_manager";
        let (status, replaced) = call(
            "PUT",
            path,
            Some(json!({"members": [ana, "ana@example.com"]})),
        );
        assert_eq!(status, 200, "{replaced}");
        assert_eq!(replaced["description"], Value::Null);
        assert_eq!(replaced["members"].as_array().unwrap().len(), 1);
        for (body, status, at) in [
            (json!({"name": "other", "members": []}), 422, "$.name"),
            (
                json!({"members": ["ghost@example.com"]}),
                422,
                "$.members[0]",
            ),
            (json!({"description": "no members"}), 422, "$.members"),
        ] {
            let (got, err) = call("PUT", path, Some(body));
            assert_eq!(
                (got, err["error"]["details"][0]["path"].as_str()),
                (status, Some(at))
            );
        }
        assert_eq!(
            call("GET", path, None).1["members"][0]["id"],
            json!(ana),
            "unchanged"
        );
        assert_eq!(
            call("PUT", "/api/v1/teams/nobody", Some(json!({"members": []}))).0,
            404
        );

        // Reading needs workflows:read, writing admin.
        let viewer = key(server, root, json!({"role": "viewer", "name": "v"}));
        assert_eq!(server.with(&viewer, "GET", path, None).0, 200);
        assert_eq!(server.with(&viewer, "GET", "/api/v1/teams", None).0, 200);
        let (status, denied) = server.with(
            &viewer,
            "POST",
            "/api/v1/teams",
            Some(json!({"name": "mine", "members": []})),
        );
        assert_eq!(status, 403, "{denied}");
        assert_eq!(server.with(&viewer, "DELETE", path, None).0, 403);

        // Another environment has teams of its own, under the same names; another tenant none.
        let dev_admin = key(
            server,
            root,
            json!({"environment": "development", "role": "admin", "name": "dev"}),
        );
        assert_eq!(server.with(&dev_admin, "GET", path, None).0, 404);
        let (status, dev_team) = server.with(
            &dev_admin,
            "POST",
            "/api/v1/teams",
            Some(
                json!({"name": "sales_manager", "members": ["bob@example.com", "ana@example.com"]}),
            ),
        );
        assert_eq!(status, 201, "{dev_team}");
        assert_eq!(dev_team["members"].as_array().unwrap().len(), 2);
        assert_eq!(
            call("GET", path, None).1["members"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            call("POST", "/api/v1/tenants", Some(json!({"name": "Other"}))).0,
            201
        );
        let other = key(
            server,
            root,
            json!({"tenant_id": "other", "environment": "production", "role": "admin", "name": "o"}),
        );
        for (method, body) in [
            ("GET", None),
            ("PUT", Some(json!({"members": []}))),
            ("DELETE", None),
        ] {
            assert_eq!(server.with(&other, method, path, body).0, 404, "{method}");
        }
        let (_, none) = server.with(&other, "GET", "/api/v1/teams", None);
        assert_eq!(none["teams"], json!([]));
        // Another tenant's user is no member here either.
        let (status, _) = server.with(
            &other,
            "POST",
            "/api/v1/users",
            Some(json!({"email": "olga@example.com", "password": "team password 1", "role": "viewer"})),
        );
        assert_eq!(status, 201);
        let (status, err) = call(
            "POST",
            "/api/v1/teams",
            Some(json!({"name": "ops", "members": ["olga@example.com"]})),
        );
        assert_eq!(
            (status, err["error"]["details"][0]["path"].as_str()),
            (422, Some("$.members[0]"))
        );

        // Deleting answers 204, once.
        assert_eq!(call("DELETE", path, None).0, 204);
        assert_eq!(call("DELETE", path, None).0, 404);
        assert_eq!(call("GET", path, None).0, 404);
        assert_eq!(
            server.with(&dev_admin, "GET", path, None).0,
            200,
            "development's stays"
        );

        // Every write is audited, with before and after.
        let created = audited(server, root, "team.create");
        assert_eq!(created.len(), 1, "{created:?}");
        assert_eq!(created[0]["target"], "sales_manager");
        assert_eq!(created[0]["changes"]["members"][0]["id"], json!(ana));
        let updated = audited(server, root, "team.update");
        assert_eq!(
            updated.len(),
            1,
            "only the accepted replacement: {updated:?}"
        );
        assert_eq!(
            updated[0]["changes"]["before"]["description"],
            "Approves big orders"
        );
        assert_eq!(updated[0]["changes"]["after"]["description"], Value::Null);
        let deleted = audited(server, root, "team.delete");
        assert_eq!(deleted[0]["changes"]["before"]["name"], "sales_manager");
    });
}

#[test]
fn the_sales_manager_team_is_told_and_decides_others_are_refused_and_an_admin_overrides() {
    let dir = scratch("sales-managers");
    let root = "sales-managers-root";
    let (smtp, server) = Smtp::serve(&dir, root);
    let call =
        |method: &str, path: &str, body: Option<Value>| server.with(root, method, path, body);

    // Before the team exists, deploying what names it warns (and succeeds).
    let example: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../examples/order-approval.workflow.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let w104 = |answer: &Value| -> Vec<String> {
        answer["warnings"]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"))
            .iter()
            .filter(|w| w["code"] == "WEIR-W104")
            .map(|w| w["path"].as_str().unwrap().to_owned())
            .collect()
    };
    let (status, deployed) = call("POST", "/api/v1/workflows", Some(example.clone()));
    assert_eq!(status, 201, "{deployed}");
    assert_eq!(
        w104(&deployed),
        [
            "$.steps[1].execute[0].recipients[0]",
            "$.steps[1].execute[1].approver_role"
        ]
    );
    let said = deployed["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "WEIR-W104");
    assert!(
        said.is_some_and(|w| w["message"]
            .as_str()
            .unwrap()
            .contains("no team 'sales_manager'")),
        "{deployed}"
    );
    let big_order = json!({"workflow_id": "big_order", "trigger": {"type": "event", "event": "order.placed"}, "steps": [
        {"id": "tell_app", "type": "notify", "config": {"channel": "in_app", "recipients": ["role:sales_manager"],
            "message": "Order {{order.id}} needs a sales manager"}},
        {"id": "tell_mail", "type": "notify", "config": {"channel": "email", "recipients": ["role:sales_manager"],
            "subject": "Approve order {{order.id}}", "message": "Order {{order.id}} ({{order.total}}) waits for you"}},
        {"id": "ask", "type": "approval", "approver_role": "sales_manager", "entity": "order", "entity_id": "{{order.id}}",
            "timeout": "1h", "on_approve": "ok", "on_reject": "no"},
        {"id": "ok", "type": "action", "action": "allow"},
        {"id": "no", "type": "action", "action": "block", "reason": "rejected"}]});
    let (_, deployed) = call("POST", "/api/v1/workflows", Some(big_order.clone()));
    assert_eq!(
        w104(&deployed),
        [
            "$.steps[0].config.recipients[0]",
            "$.steps[1].config.recipients[0]",
            "$.steps[2].approver_role"
        ]
    );

    // Sam and Dora are the sales managers (Dora is disabled); Olive is an operator outside
    // the team; Ada an admin outside it.
    let password = "sales password 1";
    let mut ids = std::collections::HashMap::new();
    for (email, role) in [
        ("sam@example.com", "operator"),
        ("dora@example.com", "operator"),
        ("olive@example.com", "operator"),
        ("ada@example.com", "admin"),
    ] {
        let (status, made) = call(
            "POST",
            "/api/v1/users",
            Some(json!({"email": email, "password": password, "role": role})),
        );
        assert_eq!(status, 201, "{made}");
        ids.insert(email, made["id"].as_str().unwrap().to_owned());
    }
    let (status, team) = call(
        "POST",
        "/api/v1/teams",
        Some(json!({"name": "sales_manager", "members": ["sam@example.com", "dora@example.com"]})),
    );
    assert_eq!(status, 201, "{team}");
    let dora = &ids["dora@example.com"];
    assert_eq!(
        call("DELETE", &format!("/api/v1/users/{dora}"), None).0,
        200
    );
    let (_, deployed) = call("PUT", "/api/v1/workflows/big_order", Some(big_order));
    assert_eq!(
        w104(&deployed),
        Vec::<String>::new(),
        "the team exists now: {deployed}"
    );

    let start = |order: &str| -> String {
        let (status, sent) = call(
            "POST",
            "/api/v1/events",
            Some(
                json!({"event_type": "order.placed", "payload": {"order": {"id": order, "total": 25000}}}),
            ),
        );
        assert_eq!(status, 200, "{sent}");
        assert_eq!(sent["executions"][0]["status"], "waiting", "{sent}");
        sent["executions"][0]["execution_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let approval_of = |order: &str| -> String {
        let pending = poll(
            &server,
            root,
            &format!("/api/v1/approvals?entity_id={order}"),
            |v| v["approvals"].as_array().is_some_and(|a| !a.is_empty()),
        );
        pending["approvals"][0]["id"].as_str().unwrap().to_owned()
    };
    let run_o1 = start("o1");
    let o1 = approval_of("o1");

    // Sam is told in-app, and by mail through the SMTP server; Dora, disabled, is not.
    let sam = token(&server, "sam@example.com", password);
    let (_, mine) = server.with(&sam, "GET", "/api/v1/notifications", None);
    assert_eq!(
        (
            &mine["notifications"][0]["recipient"],
            &mine["notifications"][0]["message"]
        ),
        (
            &json!("sam@example.com"),
            &json!("Order o1 needs a sales manager")
        ),
        "{mine}"
    );
    let (_, kept) = call(
        "GET",
        "/api/v1/notifications?recipient=role%3Asales_manager",
        None,
    );
    assert_eq!(
        kept["notifications"],
        json!([]),
        "the role reached people: {kept}"
    );
    let mail = smtp.messages();
    assert_eq!(mail.len(), 1, "{mail:#?}");
    assert!(
        mail[0].contains("X-Rcpt: sam@example.com\r\n"),
        "{}",
        mail[0]
    );
    assert!(mail[0].contains("Subject: Approve order o1"), "{}", mail[0]);
    assert!(
        mail[0].contains("Order o1 (25000) waits for you"),
        "{}",
        mail[0]
    );

    // Olive may decide approvals, but not this one: 403 naming the team, audited.
    let olive = token(&server, "olive@example.com", password);
    let (status, refused) = server.with(
        &olive,
        "POST",
        &format!("/api/v1/approvals/{o1}/approve"),
        Some(json!({"reason": "looks fine"})),
    );
    assert_eq!(status, 403, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'sales_manager'"),
        "{refused}"
    );
    // A key with the operator role is no member either.
    let operator_key = key(&server, root, json!({"role": "operator", "name": "ops"}));
    assert_eq!(
        server
            .with(
                &operator_key,
                "POST",
                &format!("/api/v1/approvals/{o1}/reject"),
                None
            )
            .0,
        403
    );
    assert_eq!(
        call("GET", &format!("/api/v1/approvals/{o1}"), None).1["status"],
        "pending"
    );

    // Sam approves: the run goes on.
    let (status, decided) = server.with(
        &sam,
        "POST",
        &format!("/api/v1/approvals/{o1}/approve"),
        Some(json!({"reason": "known customer"})),
    );
    assert_eq!(
        (status, &decided["status"]),
        (200, &json!("approved")),
        "{decided}"
    );
    assert_eq!(decided["decided_by"], json!(ids["sam@example.com"]));
    let done = poll(
        &server,
        root,
        &format!("/api/v1/executions/{run_o1}"),
        |e| e["status"] == "completed",
    );
    assert_eq!(done["decision"], "allow", "{done}");

    // Ada, an admin outside the team, overrides on another order.
    let run_o2 = start("o2");
    let o2 = approval_of("o2");
    let ada = token(&server, "ada@example.com", password);
    let (status, overridden) = server.with(
        &ada,
        "POST",
        &format!("/api/v1/approvals/{o2}/reject"),
        Some(json!({"reason": "sales managers are away"})),
    );
    assert_eq!(
        (status, &overridden["status"]),
        (200, &json!("rejected")),
        "{overridden}"
    );
    let done = poll(
        &server,
        root,
        &format!("/api/v1/executions/{run_o2}"),
        |e| e["status"] == "completed",
    );
    assert_eq!(done["decision"], "block", "{done}");

    // All three are in the audit log.
    let approved = audited(&server, root, "approval.approve");
    assert_eq!(approved.len(), 1, "{approved:?}");
    assert_eq!(
        (
            &approved[0]["actor_type"],
            &approved[0]["actor_id"],
            &approved[0]["target"]
        ),
        (&json!("user"), &json!(ids["sam@example.com"]), &json!(o1))
    );
    assert_eq!(
        approved[0]["changes"],
        json!({"reason": "known customer", "approver_role": "sales_manager", "override": false})
    );
    let rejected = audited(&server, root, "approval.reject");
    assert_eq!(
        (&rejected[0]["actor_id"], &rejected[0]["changes"]),
        (
            &json!(ids["ada@example.com"]),
            &json!({"reason": "sales managers are away", "approver_role": "sales_manager", "override": true})
        )
    );
    let refused = audited(&server, root, "approval.refused");
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert_eq!(
        (
            &refused[1]["actor_id"],
            &refused[1]["target"],
            &refused[1]["changes"]
        ),
        (
            &json!(ids["olive@example.com"]),
            &json!(o1),
            &json!({"attempted": "approve", "approver_role": "sales_manager", "reason": "looks fine"})
        )
    );
    assert_eq!(refused[0]["actor_type"], "api_key");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn approver_role_operator_still_means_the_operators() {
    on_both_backends(
        "operator_approvals",
        &[("WEIR_ADMIN_KEY", "operator-root")],
        |server, _| {
            let root = "operator-root";
            let wf = json!({"workflow_id": "ops", "trigger": {"type": "event", "event": "ops.asked"}, "steps": [
            {"id": "ask", "type": "approval", "approver_role": "operator", "timeout": "1h", "on_approve": "ok", "on_reject": "ok"},
            {"id": "ok", "type": "action", "action": "allow"}]});
            let (status, deployed) = server.with(root, "POST", "/api/v1/workflows", Some(wf));
            assert_eq!(status, 201);
            assert_eq!(deployed["warnings"], json!([]), "a role is no unknown team");
            server.with(
                root,
                "POST",
                "/api/v1/events",
                Some(json!({"event_type": "ops.asked", "payload": {}})),
            );
            let pending = poll(server, root, "/api/v1/approvals?status=pending", |v| {
                v["approvals"].as_array().is_some_and(|a| !a.is_empty())
            });
            let id = pending["approvals"][0]["id"].as_str().unwrap();
            let editor = key(server, root, json!({"role": "editor", "name": "e"}));
            assert_eq!(
                server
                    .with(
                        &editor,
                        "POST",
                        &format!("/api/v1/approvals/{id}/approve"),
                        None
                    )
                    .0,
                403,
                "an editor may not decide approvals at all"
            );
            let operator = key(server, root, json!({"role": "operator", "name": "o"}));
            let (status, decided) = server.with(
                &operator,
                "POST",
                &format!("/api/v1/approvals/{id}/approve"),
                None,
            );
            assert_eq!(
                (status, &decided["status"]),
                (200, &json!("approved")),
                "{decided}"
            );
            let approved = audited(server, root, "approval.approve");
            assert_eq!(approved[0]["changes"]["override"], false);
        },
    );
}

#[test]
fn environment_admins_manage_their_own_environment_and_owners_every_one() {
    on_both_backends(
        "owners",
        &[("WEIR_ADMIN_KEY", "owners-root")],
        |server, _| {
            let root = "owners-root";
            let prod_admin = key(server, root, json!({"role": "admin", "name": "prod admin"}));
            let owner = key(server, root, json!({"role": "owner", "name": "owner"}));
            let (_, me) = server.with(&owner, "GET", "/api/v1/auth/me", None);
            assert_eq!(me["role"], "owner");
            assert!(
                me["permissions"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("tenant:admin")),
                "{me}"
            );

            // Keys: an admin for its environment only, and never an owner's.
            let dev_body =
                json!({"environment": "development", "role": "admin", "name": "dev admin"});
            let (status, refused) = server.with(
                &prod_admin,
                "POST",
                "/api/v1/api-keys",
                Some(dev_body.clone()),
            );
            assert_eq!(status, 403, "{refused}");
            assert!(
                refused["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("owner"),
                "{refused}"
            );
            let (status, _) = server.with(
                &prod_admin,
                "POST",
                "/api/v1/api-keys",
                Some(json!({"role": "owner", "name": "me too"})),
            );
            assert_eq!(status, 403, "an admin does not make owners");
            let dev_admin = key(server, &owner, dev_body);
            let (_, dev_key) = server.with(&dev_admin, "GET", "/api/v1/auth/me", None);
            let dev_key_id = dev_key["id"].as_str().unwrap().to_owned();
            let (_, listed) = server.with(&prod_admin, "GET", "/api/v1/api-keys", None);
            let envs: Vec<&str> = listed["api_keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["environment"].as_str().unwrap())
                .collect();
            assert!(envs.iter().all(|e| *e == "production"), "{listed}");
            for (method, path) in [
                ("GET", format!("/api/v1/api-keys/{dev_key_id}")),
                ("DELETE", format!("/api/v1/api-keys/{dev_key_id}")),
            ] {
                assert_eq!(
                    server.with(&prod_admin, method, &path, None).0,
                    404,
                    "{method}"
                );
            }
            let (_, owner_me) = server.with(&owner, "GET", "/api/v1/auth/me", None);
            let owner_id = owner_me["id"].as_str().unwrap();
            assert_eq!(
                server
                    .with(
                        &prod_admin,
                        "DELETE",
                        &format!("/api/v1/api-keys/{owner_id}"),
                        None
                    )
                    .0,
                403,
                "an owner's key is an owner's to revoke"
            );
            assert_eq!(
                server
                    .with(
                        &prod_admin,
                        "POST",
                        "/api/v1/tenants/default/environments",
                        Some(json!({"name": "qa"}))
                    )
                    .0,
                403
            );
            assert_eq!(
                server
                    .with(
                        &owner,
                        "POST",
                        "/api/v1/tenants/default/environments",
                        Some(json!({"name": "qa"}))
                    )
                    .0,
                201
            );
            let (status, revoked) = server.with(
                &owner,
                "DELETE",
                &format!("/api/v1/api-keys/{dev_key_id}"),
                None,
            );
            assert_eq!((status, revoked["revoked_at"].is_string()), (200, true));

            // Users: an admin's work in its environment; one of every environment is the owner's.
            let password = "owners password 1";
            let user = |by: &str, email: &str, extra: Value| {
                let mut body = json!({"email": email, "password": password, "role": "operator"});
                body.as_object_mut()
                    .unwrap()
                    .extend(extra.as_object().unwrap().clone());
                server.with(by, "POST", "/api/v1/users", Some(body))
            };
            let (status, pat) = user(&prod_admin, "pat@example.com", json!({}));
            assert_eq!(
                (status, &pat["environment"]),
                (201, &json!("production")),
                "{pat}"
            );
            assert_eq!(login(server, "pat@example.com", password, None).0, 201);
            let (status, elsewhere) =
                login(server, "pat@example.com", password, Some("development"));
            assert_eq!(status, 403, "{elsewhere}");
            assert_eq!(
                user(
                    &prod_admin,
                    "dev@example.com",
                    json!({"environment": "development"})
                )
                .0,
                403
            );
            assert_eq!(
                user(&prod_admin, "boss@example.com", json!({"role": "owner"})).0,
                403
            );
            let (status, err) = user(
                &owner,
                "boss@example.com",
                json!({"role": "owner", "environment": "production"}),
            );
            assert_eq!(
                (status, err["error"]["details"][0]["path"].as_str()),
                (422, Some("$.environment"))
            );
            let (status, err) = user(
                &owner,
                "nowhere@example.com",
                json!({"environment": "staging"}),
            );
            assert_eq!(
                (status, err["error"]["details"][0]["path"].as_str()),
                (422, Some("$.environment"))
            );
            let (status, wide) = user(&owner, "wide@example.com", json!({}));
            assert_eq!(
                (status, &wide["environment"]),
                (201, &Value::Null),
                "{wide}"
            );
            let (status, dev_user) = user(
                &owner,
                "dev@example.com",
                json!({"environment": "development"}),
            );
            assert_eq!(status, 201, "{dev_user}");
            let wide_path = format!("/api/v1/users/{}", wide["id"].as_str().unwrap());
            let dev_path = format!("/api/v1/users/{}", dev_user["id"].as_str().unwrap());
            let pat_path = format!("/api/v1/users/{}", pat["id"].as_str().unwrap());
            // The admin sees those who work in production, changes only those limited to it.
            let (_, users) = server.with(&prod_admin, "GET", "/api/v1/users", None);
            let emails: Vec<&str> = users["users"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["email"].as_str().unwrap())
                .collect();
            assert_eq!(emails, ["pat@example.com", "wide@example.com"]);
            assert_eq!(server.with(&prod_admin, "GET", &dev_path, None).0, 404);
            assert_eq!(server.with(&prod_admin, "GET", &wide_path, None).0, 200);
            assert_eq!(
                server
                    .with(&prod_admin, "PATCH", &wide_path, Some(json!({"name": "x"})))
                    .0,
                403
            );
            assert_eq!(server.with(&prod_admin, "DELETE", &wide_path, None).0, 403);
            assert_eq!(
                server
                    .with(
                        &prod_admin,
                        "PATCH",
                        &pat_path,
                        Some(json!({"role": "owner"}))
                    )
                    .0,
                403
            );
            let (status, err) =
                server.with(&owner, "PATCH", &pat_path, Some(json!({"role": "owner"})));
            assert_eq!(
                (status, err["error"]["details"][0]["path"].as_str()),
                (422, Some("$.role"))
            );
            let (status, renamed) = server.with(
                &prod_admin,
                "PATCH",
                &pat_path,
                Some(json!({"name": "Pat"})),
            );
            assert_eq!((status, &renamed["name"]), (200, &json!("Pat")));
            assert_eq!(
                server
                    .with(&owner, "PATCH", &wide_path, Some(json!({"role": "editor"})))
                    .0,
                200
            );
            let (status, boss) = user(&owner, "boss@example.com", json!({"role": "owner"}));
            assert_eq!((status, &boss["environment"]), (201, &Value::Null));

            // Teams are an admin's in its environment: a development user is no member here.
            let (status, err) = server.with(
                &prod_admin,
                "POST",
                "/api/v1/teams",
                Some(
                    json!({"name": "managers", "members": ["pat@example.com", "dev@example.com"]}),
                ),
            );
            assert_eq!(
                (status, err["error"]["details"][0]["path"].as_str()),
                (422, Some("$.members[1]"))
            );

            // Another tenant stays 404, for the owner too.
            assert_eq!(
                server
                    .with(
                        root,
                        "POST",
                        "/api/v1/tenants",
                        Some(json!({"name": "Globex"}))
                    )
                    .0,
                201
            );
            let (status, _) = server.with(
            &owner,
            "POST",
            "/api/v1/api-keys",
            Some(json!({"tenant_id": "globex", "environment": "production", "role": "admin", "name": "x"})),
        );
            assert_eq!(status, 404);
            assert_eq!(
                server
                    .with(
                        &owner,
                        "POST",
                        "/api/v1/tenants/globex/environments",
                        Some(json!({"name": "qa"}))
                    )
                    .0,
                404
            );
            // The platform admin's key stays above all: keys of any tenant and environment.
            key(
                server,
                root,
                json!({"tenant_id": "globex", "environment": "development", "role": "owner", "name": "g"}),
            );
        },
    );
}
