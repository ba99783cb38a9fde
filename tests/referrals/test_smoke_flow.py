def test_factory_walks_a_referral_to_placed_and_the_pool_follows(make):
    pool = make.pool(capacity=3)
    referral = make.referral(pool=pool, status="placed")
    assert referral.status == "placed"
    assert [e.to_status for e in referral.events] == ["draft", "submitted", "accepted", "approved", "placed"]
    assert (pool.held, pool.occupied) == (0, 1)
