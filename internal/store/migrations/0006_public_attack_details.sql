-- A workspace may choose to show attacked addresses and volumes publicly
-- (off by default: public text must not help the attacker).
ALTER TABLE workspaces ADD COLUMN public_attack_details BOOLEAN NOT NULL DEFAULT FALSE;
