-- A connect storm reads each arriving person's direct partners in batches
-- (`user_lo = ANY($1) OR user_hi = ANY($1)`): the primary key serves the first side,
-- this index the second.
CREATE INDEX direct_pairs_user_hi_idx ON direct_pairs (user_hi);
