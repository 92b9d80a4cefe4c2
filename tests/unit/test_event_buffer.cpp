// SPDX-License-Identifier: MIT
#include "event_buffer.h"
#include "string_table.h"

#include <catch2/catch.hpp>

#include <thread>

using namespace rooftime::collector;

TEST_CASE("events cross chunk boundaries in order and chunks are freed")
{
    ChunkBudget budget;
    EventProducer producer(budget);
    EventConsumer consumer(budget);
    consumer.attach(producer.first());
    const std::uint64_t n = 3 * Chunk::kCapacity + 17;
    for (std::uint64_t i = 0; i < n; ++i) {
        Event* e = producer.reserve();
        REQUIRE(e);
        e->seq = i;
        producer.publish();
    }
    CHECK(budget.live.load() == 4);
    std::uint64_t expected = 0;
    bool ordered = true;
    const auto seen = consumer.drain([&](const Event& e) { ordered = ordered && e.seq == expected++; });
    CHECK(seen == n);
    CHECK(ordered);
    CHECK(budget.live.load() == 1); // the chunk in use stays
    CHECK(consumer.drain([](const Event&) {}) == 0);
    consumer.release();
    CHECK(budget.live.load() == 0);
}

TEST_CASE("a consumer draining concurrently sees every event exactly once")
{
    ChunkBudget budget;
    EventProducer producer(budget);
    EventConsumer consumer(budget);
    consumer.attach(producer.first());
    const std::uint64_t n = 500'000;
    std::atomic<bool> done { false };
    std::thread t([&] {
        for (std::uint64_t i = 0; i < n; ++i) {
            Event* e = producer.reserve();
            e->seq = i;
            e->flops = static_cast<double>(i);
            producer.publish();
        }
        done = true;
    });
    std::uint64_t next = 0;
    bool ok = true;
    auto check = [&](const Event& e) {
        ok = ok && e.seq == next && e.flops == static_cast<double>(next);
        ++next;
    };
    while (!done)
        consumer.drain(check);
    t.join();
    consumer.drain(check);
    CHECK(ok);
    CHECK(next == n);
    consumer.release();
}

TEST_CASE("past the budget events are dropped and counted, not buffered")
{
    ChunkBudget budget;
    budget.limit = 2;
    EventProducer producer(budget);
    EventConsumer consumer(budget);
    consumer.attach(producer.first());
    std::uint64_t accepted = 0;
    for (std::uint64_t i = 0; i < 3 * Chunk::kCapacity; ++i) {
        if (Event* e = producer.reserve()) {
            e->seq = i;
            producer.publish();
            ++accepted;
        }
    }
    CHECK(accepted == 2 * Chunk::kCapacity);
    CHECK(budget.dropped.load() == Chunk::kCapacity);
    CHECK(budget.live.load() == 2);
    // Once the writer frees chunks, recording resumes.
    CHECK(consumer.drain([](const Event&) {}) == accepted);
    CHECK(producer.reserve() != nullptr);
    consumer.release();
}

TEST_CASE("names are interned once and a reused buffer is not confused")
{
    StringTable table;
    NameCache cache;
    char buf[16] = "alpha";
    const auto a = cache.lookup(table, buf);
    CHECK(cache.lookup(table, "alpha") == a);
    std::snprintf(buf, sizeof buf, "beta");
    const auto b = cache.lookup(table, buf);
    CHECK(b != a);
    CHECK(cache.lookup(table, nullptr) == table.intern("(null)").id);
    auto all = table.since(0);
    REQUIRE(all.size() == 3);
    CHECK(all[0].second == "alpha");
    CHECK(all[1].second == "beta");
    CHECK(table.since(2).size() == 1);
}
