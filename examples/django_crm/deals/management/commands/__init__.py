"""``check_lists``: the example's proof that every list shows what `can` allows."""
