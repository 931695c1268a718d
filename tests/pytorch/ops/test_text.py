"""Text translations (include/dfgpar/pytorch/ops/text.hpp): TfIdfVectorizer
(TF counts of unigrams and bigrams with skips, batched) against the backend
suite's data, and its IDF/TFIDF weights computed here."""

import numpy as np

from optest import OpTest, needs_dfgpar


@needs_dfgpar
class Text(OpTest):
    def test_tfidf_suite_cases(self):
        for case in ('test_tfidfvectorizer_tf_batch_uniandbigrams_skip5',
                     'test_tfidfvectorizer_tf_only_bigrams_skip0',
                     'test_tfidfvectorizer_tf_onlybigrams_levelempty'):
            with self.subTest(case=case):
                self.check_suite(case)

    def test_tfidf_weights(self):
        x = np.array([1, 2, 1, 3, 1], np.int64)
        attrs = dict(min_gram_length=1, max_gram_length=1, max_skip_count=0,
                     ngram_counts=[0], ngram_indexes=[0, 1, 2],
                     pool_int64s=[1, 3, 4], weights=[0.5, 2.0, 3.0])
        self.check_node(np.array([0.5, 2.0, 0.0], np.float32),
                        'TfIdfVectorizer', [('x', x)], opset=9, mode='IDF',
                        **attrs)
        self.check_node(np.array([1.5, 2.0, 0.0], np.float32),
                        'TfIdfVectorizer', [('x', x)], opset=9, mode='TFIDF',
                        **attrs)
