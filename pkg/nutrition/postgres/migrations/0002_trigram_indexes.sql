-- 0002: trigram indexes for similarity search.
-- requires: pg_trgm
--
-- Applied only once the pg_trgm extension is available; until then Lookup
-- matches similar names by their words. search_path holds the store's
-- schema and the extension's, so gist_trgm_ops resolves.
--
-- GiST rather than GIN: Lookup asks for the nearest names by distance
-- (ORDER BY name <-> $1 LIMIT n), which only GiST serves, and which does not
-- depend on the pg_trgm.similarity_threshold settings of the session.

CREATE INDEX foods_description_trgm_idx ON foods USING gist (description_norm gist_trgm_ops);
CREATE INDEX aliases_name_trgm_idx ON aliases USING gist (name_norm gist_trgm_ops);
