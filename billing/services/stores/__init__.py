"""In-app purchases: App Store transactions and Google Play purchases, verified with the stores and credited
with the same guarantees as the provider payments.

Each store purchase is stored once (StorePurchase, unique by store and transaction id / purchase token) with
an order keyed by the store's id; the order's conditional status move grants the credits once (order_complete),
a refund or revocation claws them back once (order_mark_refunded), and a subscription period is granted once
per period (subscription_period_grant). Store calls never run inside a transaction; the user is the one whose
StoreAccount token the app handed the store (appAccountToken, obfuscatedExternalAccountId).

Modules by concern, importing one way: shared (errors, store accounts, products, orders, purchase rows,
notifications) <- grants (clawbacks, store subscriptions and their periods) <- app_store, google_play
<- reconcile. Their entry points are re-exported by billing.services.
"""
