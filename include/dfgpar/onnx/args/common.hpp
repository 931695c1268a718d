#pragma once
/// \file args/common.hpp
/// What every header of the argument layer (onnx/args/) shares: what is known
/// about a node's inputs (`node_inputs`), one normalised argument (`arg<T>`),
/// and axis normalisation.
///
/// The argument layer turns an operator's arguments, wherever the node's
/// opset keeps them (an attribute before some version, an input since), into
/// one struct per operator family. Each family has a `read_<family>(node,
/// attributes, opset, inputs)` function; the folding evaluator, the PyTorch
/// translations and the native runtime's kernels all call it, so the opset
/// rules are written once. An argument that comes from an input whose value
/// is only known at run time is reported as such (`arg::at_run_time()`,
/// `arg::input`): the evaluator declines the node, a translation emits code
/// that reads the input.
/// \code
///   dfgpar::onnx::attribute_reader a(node);
///   auto in = dfgpar::onnx::node_inputs(values);            // evaluator: every given value known
///   auto s  = dfgpar::onnx::read_slice(node, a, opset, in);
///   if (s.starts.known()) use(*s.starts.value);
///   else read_input_at_run_time(s.starts.input);
/// \endcode
/// Invalid arguments throw `argument_error` (attributes.hpp).

#include <dfgpar/onnx/attributes.hpp>
#include <dfgpar/onnx/tensor.hpp>

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace dfgpar::onnx {

/// What is known about a node's inputs when its arguments are normalised:
/// whether each input is given (an optional input may be omitted), and its
/// value when known before run time (a constant), else null.
class node_inputs {
 public:
  node_inputs() = default;
  /// Every given input's value is known (the evaluator): one pointer per
  /// input, null for an omitted optional input.
  explicit node_inputs(std::span<const tensor* const> values)
      : given_(values.size()), values_(values.begin(), values.end()) {
    for (std::size_t i = 0; i < values.size(); ++i) given_[i] = values[i] != nullptr;
  }
  /// `given[i]`: input i is given; `values[i]`: its value, null when it is
  /// computed at run time.
  node_inputs(std::vector<char> given, std::vector<const tensor*> values)
      : given_(std::move(given)), values_(std::move(values)) {
    values_.resize(given_.size(), nullptr);
  }
  /// The inputs of `n` (given: a non-empty name), with `value_of(i)` the
  /// value of input i when known before run time, else null.
  template <class F>
  static node_inputs of(const ::onnx::NodeProto& n, F&& value_of) {
    std::vector<char> given(static_cast<std::size_t>(n.input_size()));
    std::vector<const tensor*> values(given.size(), nullptr);
    for (std::size_t i = 0; i < given.size(); ++i) {
      given[i] = !n.input(static_cast<int>(i)).empty();
      if (given[i]) values[i] = value_of(i);
    }
    return node_inputs(std::move(given), std::move(values));
  }

  /// Number of input slots (given or not).
  std::size_t size() const noexcept { return given_.size(); }
  /// Input i is given.
  bool given(std::size_t i) const noexcept { return i < given_.size() && given_[i]; }
  /// The value of input i when known before run time, else null.
  const tensor* value(std::size_t i) const noexcept { return given(i) ? values_[i] : nullptr; }
  /// Input i is given and its value is known.
  bool known(std::size_t i) const noexcept { return value(i) != nullptr; }
  /// Input i is given but its value is only known at run time.
  bool at_run_time(std::size_t i) const noexcept { return given(i) && !value(i); }

 private:
  std::vector<char> given_;
  std::vector<const tensor*> values_;
};

/// Where a normalised argument comes from.
enum class arg_source : std::uint8_t {
  absent,     ///< neither attribute nor input given: the operator's default applies
  attribute,  ///< an attribute (value known)
  input,      ///< an input (value known when the input is a constant)
};

/// One normalised argument: its value when known, or the input that holds it
/// at run time.
template <class T>
struct arg {
  arg_source source = arg_source::absent;
  int input = -1;          ///< the input index when `source == input`
  std::optional<T> value;  ///< the value when known (also a default the operator defines when absent)

  /// Given as an attribute or an input.
  bool given() const noexcept { return source != arg_source::absent; }
  /// The value is known (given or defaulted).
  bool known() const noexcept { return value.has_value(); }
  /// Given as an input whose value is only known at run time.
  bool at_run_time() const noexcept { return given() && !known(); }
};

/// A list of integers (axes, pads, starts, ...).
using ints_arg = arg<std::vector<std::int64_t>>;

namespace detail {

/// Input `i` as an int list argument (absent when not given).
inline ints_arg ints_from_input(const node_inputs& in, std::size_t i) {
  ints_arg r;
  if (!in.given(i)) return r;
  r.source = arg_source::input;
  r.input = static_cast<int>(i);
  if (const auto* t = in.value(i)) r.value = t->to_int64();
  return r;
}

/// INTS attribute `name` as an int list argument (absent when not given).
inline ints_arg ints_from_attribute(attribute_reader& a, const char* name) {
  ints_arg r;
  if (auto v = a.find_ints(name)) {
    r.source = arg_source::attribute;
    r.value = std::move(*v);
  }
  return r;
}

/// Input `i` as one number (absent when not given); it must hold one element.
inline arg<double> scalar_from_input(const ::onnx::NodeProto& n, const node_inputs& in, std::size_t i,
                                     const char* what) {
  arg<double> r;
  if (!in.given(i)) return r;
  r.source = arg_source::input;
  r.input = static_cast<int>(i);
  if (const auto* t = in.value(i)) {
    if (t->size() != 1) fail_node(n, std::string(what) + " must have one element");
    r.value = t->as_double(0);
  }
  return r;
}

}  // namespace detail

/// Axis in [-rank, rank) -> [0, rank). \throws argument_error when out of range.
inline std::int64_t normalize_axis(const ::onnx::NodeProto& n, std::int64_t axis, std::int64_t rank,
                                   const char* what = "axis") {
  if (axis < -rank || axis >= rank)
    detail::fail_node(n, std::string(what) + " " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

}  // namespace dfgpar::onnx
