-- Hooks: what the notifier needs beyond the deliveries table of version 1.
-- alert_id: the alert an alert.* delivery is about (acked alerts are not
-- sent); seq orders pending rows first-in first-out within one due time.
ALTER TABLE deliveries ADD COLUMN alert_id INTEGER;
-- The dispatcher asks one hook's due rows at a time, oldest first.
CREATE INDEX deliveries_hook_due ON deliveries (hook, state, next_attempt_at);
