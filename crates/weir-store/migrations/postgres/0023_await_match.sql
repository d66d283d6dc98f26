-- A wait whose `match` requires the event's payload to hold a text at a path (dotted keys):
-- an event that holds another text there is not queued for it.
ALTER TABLE awaits ADD COLUMN match_path TEXT;
ALTER TABLE awaits ADD COLUMN match_text TEXT;
