"""SHA-256 of the files of yahpo_data v1.0.2 that the YAHPO scenarios read (github.com/slds-lmu/yahpo_data).

A downloaded file listed here is refused unless it matches (``download.fetch``), so a truncated or altered
file never reaches the parser or the ONNX runtime. Computed from a copy of the release; files of the
release that copy lacked (10 ``model.onnx`` files) are not listed and are downloaded unchecked.
Another release needs its own table.
"""

from __future__ import annotations

#: ``"<scenario>/<file>"`` -> SHA-256 (hex) of that file in yahpo_data v1.0.2
YAHPO_SHA256: dict[str, str] = {
    "lcbench/config_space.json": "4d1c78a91429b4a37628e13f286cf1abe15f778a09722a4c01714f2d72a8200d",
    "lcbench/encoding.json": "d8af928f412bbeb07e58ecd69877fcab35fbc595333d1c1c3f76120d2f2508da",
    "lcbench/model.onnx": "b45c0d85ae39abf8820c8bea5ac82f415763afcbaf3b725e36af452b09cb6dcd",
    "nb301/config_space.json": "3135c6f8347f491fd31e8fa7a5e9607ea926c9a8558a6a21a1419d55a01884f2",
    "nb301/encoding.json": "b16bb8db9aa5a9b688cd97e782643abe96bd166baa445675f57cbcf5e6128a98",
    "iaml_glmnet/config_space.json": "0ad5fb8f4205f54be13ded2af5f9b34f840914dc0457f1ed6be215b7885fb0f9",
    "iaml_glmnet/encoding.json": "e04ffd8c9bfdcb2e8b9c08c38d828e40d7be3ef90c8895f3e7e84b8b4348c3d1",
    "iaml_glmnet/model.onnx": "5c9b1541e37604993098ba23b04695bfe38d009108e9de0a26c3f161265b5a7a",
    "iaml_rpart/config_space.json": "0f37ac0b9ffedb2986e4a7cf47ba39f1b3611e840e7cade155b0c702983d848e",
    "iaml_rpart/encoding.json": "e04ffd8c9bfdcb2e8b9c08c38d828e40d7be3ef90c8895f3e7e84b8b4348c3d1",
    "iaml_ranger/config_space.json": "b41e57d4cd483116fba672d27ca3d4c0edc38f1f3d70b403e6c6e6ceb8daff60",
    "iaml_ranger/encoding.json": "8e68ed0a1b31187c128c4dd003d568c667b727a35ebbe29bfd62904fff26d720",
    "iaml_xgboost/config_space.json": "edefef57ee3ffcab72525499efcac75eb9968f7d8ef817e5350011bdeadf23f5",
    "iaml_xgboost/encoding.json": "bcf75e32740a4b0dab649aa19041a28404de8584d06c5424547c9b22b9290942",
    "iaml_super/config_space.json": "7aefda810fa8cc2d14655e8d508317a71533f02d0bcf075c0147db44545f7da2",
    "iaml_super/encoding.json": "e21ef3b90b0480de57acff7320d413874d14cc5a9ed16889b1a01159f704fee4",
    "rbv2_glmnet/config_space.json": "6f2a9d7cddac5e7bac17b12870abdc35bc4ebbb245b1a3ce97d2d5fb475ace0b",
    "rbv2_glmnet/encoding.json": "2c060aa8eb6ccc572eadc405bedd8882edec08d4bd35c8f097e103cc5fe5b325",
    "rbv2_rpart/config_space.json": "86de5b9c8f9bc2f82eaafa099b9920445ce6edbe56509c9736af71d53ef4a630",
    "rbv2_rpart/encoding.json": "e978cd3de5b8fbad4f7dbb7a15bed94738d37c24a0bfb3cbdf33509ba91df49c",
    "rbv2_rpart/model.onnx": "af34bb810107fd809bdd74be227685fb2a1c5cb7b1f3c2dde5629e42ef6819f3",
    "rbv2_ranger/config_space.json": "ce36c2f5dd3f01f8ae4b5e58eba1c54c3fafe274d31f17798c87bad780c61521",
    "rbv2_ranger/encoding.json": "9f0e5947f6a30ea6daa6e194eed3026117db7d216e4a3df2d36653792ac5f489",
    "rbv2_xgboost/config_space.json": "acf4485d314d86801f61b615d64ffea7859c414c363da9e7f943621468ebbda4",
    "rbv2_xgboost/encoding.json": "0bd3cf9a4c9459a3148adf740f20b347fd11a6714f89348f41467a8f1206172a",
    "rbv2_xgboost/model.onnx": "85125b6d97f553d10cd50f9e632e1a3f1ad44bcb00300dd2880d70dfd043d9f3",
    "rbv2_svm/config_space.json": "78bc0a1e0ca1ff3c733747b0fee6861d25bb2ecd640e8b62c5d82f4cbedbecd5",
    "rbv2_svm/encoding.json": "3e298ce5695c7a55caedfa1f5058b25404a73056a56221419b70816dce100ae7",
    "rbv2_aknn/config_space.json": "2074136071a5e4e64dbe38754a4ce8870159c213d507ba80bc76197a11e3f21e",
    "rbv2_aknn/encoding.json": "d946a17d30fcb9e0e4dc888830472f945a26ecb6e24a23c569b152e806147d1c",
    "rbv2_super/config_space.json": "4955b6daba49cad9c12f1c90648c229c4a6e0052d0fe24c9f9aa493a45122d9d",
    "rbv2_super/encoding.json": "b52f5a0d9d0d2bc743dcf3f4d72e9379dbde7d3147a0f7b08d0864886daa3482",
}
