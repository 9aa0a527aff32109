-- Failed staff sign-ins, by account (`account:EMAIL`) or address
-- (`address:IP`), kept for the window the limiter counts over. In the
-- store, so every server on one database counts the same failures: spread
-- over several servers, guesses are limited as on one.
CREATE TABLE sign_in_failures (
    key TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_by_key ON sign_in_failures (key, at);
CREATE INDEX sign_in_failures_by_age ON sign_in_failures (at);
