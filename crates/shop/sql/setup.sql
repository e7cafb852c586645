-- The storefront's part of a catalog database (run by a superuser or the catalog's owner, after
-- `fashrec load`; running it again changes nothing): the table of liked products and the role the
-- shop connects as, which may read the catalog and add or remove likes, nothing else.

-- A browser session's liked products. No foreign key to products: the demo recreates that table
-- when the extension changes, and a like of a product that is gone is simply not shown.
CREATE TABLE IF NOT EXISTS shop_likes (
    session    uuid        NOT NULL,
    product_id int         NOT NULL,
    liked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session, product_id)
);

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'fashrec_shop') THEN
        CREATE ROLE fashrec_shop LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
END $$;

GRANT SELECT ON products TO fashrec_shop;
-- SELECT too: "for you" reads the session's likes, and DELETE ... WHERE reads the rows it removes.
GRANT SELECT, INSERT, DELETE ON shop_likes TO fashrec_shop;
