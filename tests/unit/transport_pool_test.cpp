// The pool that lends the lineages their connections to the CAs (net/transport_pool.h).
#include "net/transport_pool.h"

#include <gtest/gtest.h>

#include "net/lazy_transport.h"

using sc::net::CurlTransport;
using sc::net::LazyTransport;
using sc::net::TransportPool;

TEST(TransportPool, ATransportGivenBackIsLentAgainInsteadOfANewOne) {
  TransportPool pool({}, 2);
  auto first = pool.borrow();
  ASSERT_TRUE(first.has_value());
  CurlTransport* lent = first->get();
  pool.giveBack(std::move(*first));
  EXPECT_EQ(pool.idle(), 1u);
  auto again = pool.borrow();
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->get(), lent);
  EXPECT_EQ(pool.idle(), 0u);
}

TEST(TransportPool, KeepsNoMoreIdleThanItsBoundAndClosesThemWhenAsked) {
  TransportPool pool({}, 2);
  std::vector<std::unique_ptr<CurlTransport>> out;
  for (int i = 0; i < 5; ++i) out.push_back(std::move(*pool.borrow()));
  for (auto& t : out) pool.giveBack(std::move(t));
  EXPECT_EQ(pool.idle(), 2u);
  pool.closeIdle();
  EXPECT_EQ(pool.idle(), 0u);
}

TEST(TransportPool, ALineageHoldsATransportOnlyFromItsFirstRequestUntilItsPassEnds) {
  TransportPool pool({}, 4);
  LazyTransport a(pool), b(pool);
  EXPECT_FALSE(a.holdsHandles());
  // A request to a port nothing listens on: it fails, but it needed a transport.
  auto r = a.get("https://127.0.0.1:1/directory");
  EXPECT_FALSE(r.has_value());
  EXPECT_TRUE(a.holdsHandles());
  a.release();
  EXPECT_FALSE(a.holdsHandles());
  EXPECT_EQ(pool.idle(), 1u);
  (void)b.get("https://127.0.0.1:1/directory");  // the next lineage's pass takes it
  EXPECT_EQ(pool.idle(), 0u);
  b.release();
  EXPECT_EQ(pool.idle(), 1u);
}
