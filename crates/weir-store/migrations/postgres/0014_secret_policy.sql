-- Where a secret may go: JSON {"allowed_hosts": [...], "allowed_actions": [...]}, either list
-- absent for no restriction of that kind; NULL for a secret with neither. Code and transform
-- steps receive a secret only when its allowed_actions name them.
ALTER TABLE secrets ADD COLUMN policy TEXT;
