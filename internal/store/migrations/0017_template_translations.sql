-- Incident templates in other languages (JSON objects, language code ->
-- text), for the automatic incidents of rules that name a template.
ALTER TABLE incident_templates ADD COLUMN title_translations TEXT NOT NULL DEFAULT '';
ALTER TABLE incident_templates ADD COLUMN message_translations TEXT NOT NULL DEFAULT '';
