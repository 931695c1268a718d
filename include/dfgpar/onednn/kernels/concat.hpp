#pragma once
/// \file concat.hpp
/// Concat: a oneDNN concat, copies, or its inputs written in place into the
/// output buffer. Members of `detail::builder` (kernels.hpp), defined here; one
/// place per operator rule.

#include <dfgpar/onednn/kernels.hpp>

namespace dfgpar::onednn::detail {

inline void builder::concat(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  onnx::attribute_reader r(n);
  const int y = index_of(n.output(0));
  const auto& yd = dims_of(n, y);
  const auto axis = onnx::normalize_axis(n, r.need_int("axis"), static_cast<std::int64_t>(yd.size()));
  r.require_all_read();
  std::vector<arg_ref> args;
  std::vector<memory::desc> mds;
  for (int i = 0; i < n.input_size(); ++i) {
    const int x = index_of(n.input(i));
    dims_of(n, x);
    if (val(x).constant) args.push_back(want(k, v, DNNL_ARG_MULTIPLE_SRC + i, x, val(x).md));
    else args.push_back(as_is(v, DNNL_ARG_MULTIPLE_SRC + i, x));
    mds.push_back(args.back().md);
  }
  std::optional<dnnl::concat::primitive_desc> pd;
  if (!o_.blocked) pd.emplace(plain_md(yd), static_cast<int>(axis), mds, p_.engine, scratch_attr());
  else pd.emplace(static_cast<int>(axis), mds, p_.engine, scratch_attr());
  if (concat_by_copies(v, n, k, axis, args, pd->dst_desc())) return;
  args.push_back(produce(DNNL_ARG_DST, y, pd->dst_desc()));
  add_primitive(k, dnnl::concat(*pd), *pd, std::move(args));
}

/// A Concat whose inputs are consecutive byte ranges of its output: batch
/// 1, and every input in the output's layout (plain, or channel-blocked
/// along the channel axis with whole blocks). It is then one memcpy per
/// input, where oneDNN's generic concat of blocked tensors ("simple:any")
/// copied element by element (measured up to several ms per GoogLeNet Concat).
inline bool builder::concat_by_copies(std::size_t v, const ::onnx::NodeProto& n, kernel& k, std::int64_t axis,
                                      const std::vector<arg_ref>& args, const memory::desc& dst) {
  const int y = index_of(n.output(0));
  const auto& yd = val(y).dims;
  for (std::int64_t i = 0; i < axis; ++i)
    if (yd[static_cast<std::size_t>(i)] != 1) return false;
  using ft = memory::format_tag;
  const std::size_t rank = yd.size();
  std::vector<std::pair<ft, std::int64_t>> tags{{plain_tag(rank), 1}};  // (layout, channel block)
  if (rank == 4 && axis == 1) tags.insert(tags.end(), {{ft::aBcd8b, 8}, {ft::aBcd16b, 16}});
  if (rank == 5 && axis == 1) tags.insert(tags.end(), {{ft::aBcde8b, 8}, {ft::aBcde16b, 16}});
  for (auto [tag, block] : tags) {
    if (dst != memory::desc(to_dims(yd), memory::data_type::f32, tag)) continue;
    bool fits = true;
    for (const auto& a : args) {
      const auto& xv = val(static_cast<int>(a.index));
      if (a.kind != ref_kind::value || (block > 1 && xv.dims[1] % block != 0) ||
          a.md != memory::desc(to_dims(xv.dims), memory::data_type::f32, tag))
        fits = false;
    }
    if (!fits) continue;
    std::vector<std::pair<int, std::size_t>> parts;  // (value, bytes)
    std::size_t total = 0;
    for (const auto& a : args) {
      parts.emplace_back(static_cast<int>(a.index), a.md.get_size());
      total += a.md.get_size();
    }
    if (total != dst.get_size()) return false;
    produce(DNNL_ARG_DST, y, dst);
    program* prog = &p_;
    step s;
    s.fn = [prog, parts, y, total] {
      std::byte* out = prog->data(y);
      // bytes [lo, hi) of the output, from the parts that hold them; a part
      // written in place has its source at its destination: no copy
      auto copy_range = [&](std::size_t lo, std::size_t hi) {
        std::size_t at = 0;
        for (const auto& [x, bytes] : parts) {
          const std::size_t b = std::max(lo, at), e = std::min(hi, at + bytes);
          if (const std::byte* in = prog->data(x); b < e && in != out + at) copy_bytes(out + b, in + (b - at), e - b);
          at += bytes;
        }
      };
      // shared among the node's OpenMP threads, at least 64 KiB each
      // (DenseNet's Concats copy every earlier feature map of the block)
      for_each_share(total, total >> 16, copy_range);
    };
    concat_parts_.push_back({v, y, k.steps.size(), std::move(parts)});
    k.steps.push_back(std::move(s));
    k.what += " (copies)";
    return true;
  }
  return false;
}

/// Concat inputs written in place: a Concat done by copies (its inputs
/// are consecutive byte ranges of its output) lets the producer of an
/// input write straight into its range of the output when nothing else
/// reads that input's buffer and it is no graph input, output or
/// constant. The input's buffer becomes a slice of the output's
/// (`alias_offset`), the copy finds source and destination equal and
/// skips it, and a Concat with every input in place runs nothing. GoogLeNet
/// and Inception-v3: every branch of every block (their Concats took 0.5
/// and 1.0 ms of a run on one thread, more on two). A nested Concat whose
/// output is itself in place makes a chain of slices (`program::data`).
/// Runs once the readers are known; the buffer plan then sees every
/// producer of a slice as a writer of the output's buffer.
inline void builder::place_concat_inputs() {
  for (auto& c : concat_parts_) {
    std::size_t offset = 0, placed = 0;
    for (std::size_t i = 0; i < c.parts.size(); ++i) {
      const auto [x, bytes] = c.parts[i];
      const std::size_t at = offset;
      offset += bytes;
      const int r = p_.root(x);
      auto& rv = val(r);
      if (r == p_.root(c.output) || rv.input || rv.output || rv.constant || rv.virtual_ || rv.producer < 0 ||
          rv.md != val(x).md || rv.md.get_size() != bytes || rv.readers != std::vector<std::size_t>{c.vertex})
        continue;
      bool alone = true;  // the same tensor twice, or a graph output in its buffer
      for (std::size_t j = 0; j < c.parts.size(); ++j)
        if (j != i && p_.root(c.parts[j].first) == r) alone = false;
      for (std::size_t j = 0; j < p_.values.size(); ++j)
        if (p_.values[j].output && p_.root(static_cast<int>(j)) == r) alone = false;
      if (!alone) continue;
      rv.alias_of = c.output;
      rv.alias_offset = at;
      rv.readers.clear();  // only the Concat read it, and that is the output's producer
      ++placed;
    }
    auto& k = p_.kernels[c.vertex];
    if (placed == c.parts.size()) {
      k.steps.erase(k.steps.begin() + static_cast<std::ptrdiff_t>(c.step));
      k.what = "Concat (in place)";
    } else if (placed > 0) {
      k.what = "Concat (copies, " + std::to_string(placed) + " of " + std::to_string(c.parts.size()) + " in place)";
    }
  }
}

}  // namespace dfgpar::onednn::detail
