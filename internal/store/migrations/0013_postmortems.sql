-- Post-mortems: an incident's write-up in Markdown, shown on its page
-- and in the feeds once published.
ALTER TABLE incidents ADD COLUMN postmortem TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN postmortem_published_at BIGINT;
