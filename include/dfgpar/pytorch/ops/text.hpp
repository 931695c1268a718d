#pragma once
/// \file text.hpp
/// The PyTorch translations of text: TfIdfVectorizer.
/// Each is registered with the operator version it starts at (see
/// registry.hpp) by the add_*_translations function at the end.

#include <dfgpar/pytorch/ops/context.hpp>
#include <dfgpar/pytorch/ops/registry.hpp>

namespace dfgpar::pytorch {
namespace detail {

/// TfIdfVectorizer over integers: for each n in [min, max] and skip in
/// [0, max_skip_count] (unigrams once), every n-gram of X with items
/// skip + 1 apart that is in the pool counts at its ngram_indexes entry;
/// TF: the counts, IDF: weight where the count is not 0, TFIDF: count *
/// weight.
inline void tfidf_vectorizer(op_context& c) {
  check_types(c);
  using tp = ::onnx::TensorProto;
  if (c.elem_type(0) != tp::INT32 && c.elem_type(0) != tp::INT64) c.unsupported("input that is not int32/int64");
  const int r = c.need_rank(0);
  if (r != 1 && r != 2) c.unsupported("input of rank other than 1 or 2");
  const std::string mode = c.attr_string("mode", "");
  if (mode != "TF" && mode != "IDF" && mode != "TFIDF") c.unsupported("mode " + python_string(mode));
  const std::int64_t lo = c.attr_int("min_gram_length", 0), hi = c.attr_int("max_gram_length", 0),
                     skips = c.attr_int("max_skip_count", 0);
  const auto counts = c.attr_ints("ngram_counts"), indexes = c.attr_ints("ngram_indexes"), pool = c.attr_ints("pool_int64s");
  if (c.has_attr("pool_strings")) c.unsupported("pool_strings");
  std::vector<double> weights;
  for (float f : c.attrs().get_floats("weights")) weights.push_back(f);
  if (lo < 1 || hi < lo || skips < 0 || counts.empty() || indexes.empty()) c.unsupported("bad gram lengths or pool");
  if (!weights.empty() && weights.size() != indexes.size()) c.unsupported("weights and ngram_indexes differ in length");
  std::int64_t width = 0;
  for (auto i : indexes) {
    if (i < 0) c.unsupported("negative ngram_indexes");
    width = std::max(width, i + 1);
  }
  if (std::set<std::int64_t>(indexes.begin(), indexes.end()).size() != indexes.size())
    c.unsupported("ngram_indexes with repeated entries");
  // the pool's n-grams, grouped by n, and their index into ngram_indexes
  std::size_t entry = 0;
  const std::string x = c.in(0), o = c.out(0), cnt = temp(c, "counts"), len = temp(c, "len"), idx = temp(c, "idx"),
                    grams = temp(c, "grams"), hit = temp(c, "hit");
  c.emit(cnt + " = torch.zeros(" + x + ".shape[:-1] + [" + std::to_string(width) + "], dtype=torch.int64)");
  for (std::size_t g = 0; g < counts.size(); ++g) {
    const std::int64_t n = static_cast<std::int64_t>(g) + 1;
    const std::int64_t begin = counts[g], end = g + 1 < counts.size() ? counts[g + 1] : static_cast<std::int64_t>(pool.size());
    if (begin < 0 || end < begin || end > static_cast<std::int64_t>(pool.size()) || (end - begin) % n != 0)
      c.unsupported("ngram_counts do not split the pool");
    const std::size_t k = static_cast<std::size_t>((end - begin) / n);
    if (entry + k > indexes.size()) c.unsupported("fewer ngram_indexes than pool n-grams");
    std::vector<std::int64_t> outs(indexes.begin() + static_cast<std::ptrdiff_t>(entry),
                                   indexes.begin() + static_cast<std::ptrdiff_t>(entry + k));
    entry += k;
    if (n < lo || n > hi || k == 0) continue;
    std::string table = "[";
    for (std::size_t j = 0; j < k; ++j) {
      std::vector<std::int64_t> gram(pool.begin() + begin + static_cast<std::ptrdiff_t>(j) * n,
                                     pool.begin() + begin + static_cast<std::ptrdiff_t>(j + 1) * n);
      table += (j ? ", " : "") + python_int_list(gram);
    }
    table += "]";
    const std::string tb = temp(c, "pool" + std::to_string(n)), ob = temp(c, "index" + std::to_string(n));
    c.emit(tb + " = torch.tensor(" + table + ", dtype=" + x + ".dtype)");
    c.emit(ob + " = torch.tensor(" + python_int_list(outs) + ", dtype=torch.int64)");
    for (std::int64_t s = 0; s <= (n == 1 ? 0 : skips); ++s) {
      const std::int64_t span = (n - 1) * (s + 1);
      c.emit(len + " = " + x + ".shape[-1] - " + std::to_string(span));
      c.emit("if " + len + " > 0:");
      c.emit("    " + idx + " = torch.arange(" + len + ").unsqueeze(1)");
      c.emit("    " + idx + " = torch.add(" + idx + ", torch.mul(torch.arange(" + std::to_string(n) + "), " +
             std::to_string(s + 1) + "))");
      c.emit("    " + grams + " = torch.index_select(" + x + ", -1, " + idx + ".reshape(-1))");
      c.emit("    " + grams + " = " + grams + ".reshape(" + x + ".shape[:-1] + [" + len + ", " + std::to_string(n) + "])");
      c.emit("    " + hit + " = torch.eq(" + grams + ".unsqueeze(-2), " + tb + ").all(-1)");
      c.emit("    " + hit + " = " + hit + ".sum(-2)");
      c.emit("    " + cnt + " = torch.index_add(" + cnt + ", -1, " + ob + ", " + hit + ")");
    }
  }
  std::string w = "1.0";
  if (!weights.empty()) {
    // weights are per ngram_indexes entry: gathered onto the output positions
    std::vector<double> per(static_cast<std::size_t>(width), 0.0);
    for (std::size_t j = 0; j < indexes.size(); ++j) per[static_cast<std::size_t>(indexes[j])] = weights[j];
    std::vector<std::string> ws;
    for (double v : per) ws.push_back(python_float(v));
    w = temp(c, "weights");
    c.emit(w + " = torch.tensor([" + join(ws) + "], dtype=torch.float32)");
  }
  if (mode == "TF") c.assign(cnt + ".to(torch.float32)");
  else if (mode == "IDF") c.assign("torch.mul(torch.gt(" + cnt + ", 0).to(torch.float32), " + w + ")");
  else c.assign("torch.mul(" + cnt + ".to(torch.float32), " + w + ")");
}

}  // namespace detail

/// Text: TfIdfVectorizer.
inline void add_text_translations(op_registry& r) {
  using namespace detail;
  r.add("TfIdfVectorizer", 9, tfidf_vectorizer);
}

}  // namespace dfgpar::pytorch
