-- A node's mitigation policy set on the server (JSON); when set, it
-- overrides the policy in the agent's --bgp file.
ALTER TABLE nodes ADD COLUMN mitigation_policy TEXT NOT NULL DEFAULT '';
