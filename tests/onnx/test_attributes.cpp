// The one attribute reader (include/dfgpar/onnx/attributes.hpp): typed reads,
// defaults, read tracking, and a wrongly typed attribute as an error.

#include <dfgpar/onnx/attributes.hpp>

#include "onnx_node.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

namespace ox = dfgpar::onnx;
using onnx_test::node;

TEST_CASE("[dfgpar][onnx] attributes: typed reads with defaults") {
  const node n = node("Conv", {"x", "w"})
                     .i("group", 2)
                     .f("alpha", 0.5f)
                     .s("auto_pad", "VALID")
                     .ints("kernel_shape", {3, 3})
                     .floats("scales", {1.0f, 2.0f});
  ox::attribute_reader a(n);
  CHECK(a.get_int("group", 1) == 2);
  CHECK(a.get_int("missing", 7) == 7);
  CHECK_FALSE(a.find_int("missing"));
  CHECK(a.get_float("alpha", 1.0) == 0.5);
  CHECK(a.get_string("auto_pad", "NOTSET") == "VALID");
  CHECK(a.get_ints("kernel_shape") == std::vector<std::int64_t>{3, 3});
  CHECK(a.get_ints("strides", {1, 1}) == std::vector<std::int64_t>{1, 1});
  CHECK(a.get_floats("scales") == std::vector<float>{1.0f, 2.0f});
  CHECK(a.all_read());
  CHECK(a.unread().empty());
}

TEST_CASE("[dfgpar][onnx] attributes: read tracking names what was not read") {
  const node n = node("Flatten", {"x"}).i("axis", 1).i("new_attribute_from_the_future", 1).i("seed", 3);
  ox::attribute_reader a(n);
  CHECK(a.has("axis"));
  CHECK(a.unread() == std::vector<std::string>{"axis", "new_attribute_from_the_future", "seed"});  // has() does not read
  (void)a.get_int("axis", 1);
  a.ignore("seed");
  CHECK(a.unread() == std::vector<std::string>{"new_attribute_from_the_future"});
  CHECK_FALSE(a.all_read());
  CHECK_THROWS_WITH_AS(a.require_all_read(), doctest::Contains("attribute 'new_attribute_from_the_future' is not supported"),
                       ox::argument_error);
}

TEST_CASE("[dfgpar][onnx] attributes: a wrongly typed attribute is an error, never the default") {
  const node n = node("Flatten", {"x"}).f("axis", 2.0f).i("perm", 3).s("to", "FLOAT");
  ox::attribute_reader a(n);
  try {
    (void)a.get_int("axis", 1);
    FAIL("a FLOAT axis was read as an INT");
  } catch (const ox::attribute_error& e) {
    CHECK(e.why == "attribute 'axis' has type FLOAT, expected INT");
    CHECK(std::string(e.what()) == "dfgpar: Flatten node 'Flatten_node': attribute 'axis' has type FLOAT, expected INT");
  }
  CHECK_THROWS_AS(a.get_ints("perm"), dfgpar::graph_error);  // INT where INTS is needed
  CHECK_THROWS_AS(a.get_float("perm", 0), ox::argument_error);  // INT where FLOAT is needed
  CHECK(a.get_float("axis", 0) == 2.0);
  CHECK_THROWS_WITH(a.need_int("missing"), doctest::Contains("attribute 'missing' is missing"));
  CHECK(a.get_string("to", "") == "FLOAT");
}

TEST_CASE("[dfgpar][onnx] attributes: an attribute without a type is typed by its value") {
  node n("Gather", {"x", "i"});
  auto* a = n.n.add_attribute();  // no type field: files before IR version 2 may omit it
  a->set_name("axis");
  a->set_i(1);
  auto* b = n.n.add_attribute();
  b->set_name("axes");
  b->add_ints(0);
  auto* c = n.n.add_attribute();
  c->set_name("empty");
  ox::attribute_reader r(n);
  CHECK(r.get_int("axis", 0) == 1);
  CHECK(r.get_ints("axes") == std::vector<std::int64_t>{0});
  CHECK(r.get_ints("empty", {5}).empty());  // an empty untyped attribute is an empty list
  CHECK_THROWS_AS(r.get_int("empty", 0), ox::argument_error);
  CHECK_THROWS_AS(r.get_float("axis", 0), ox::argument_error);
}

}  // namespace
