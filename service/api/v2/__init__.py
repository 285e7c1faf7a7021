"""The Open Inference Protocol (KServe "V2"): each loss family is a model named by its operationId.

``schemas`` (the protocol's bodies), ``datatypes`` (V2 datatypes ↔ Tensor dtypes), ``framing`` (the JSON
header and Triton's binary tensor extension, both directions), ``inputs`` (inputs and parameters → the
same ``Parsed`` the /v1 front end makes), ``outputs`` (a ``LossResult`` → named output tensors),
``inference`` (one request end to end), ``metadata``, ``errors`` (the problem's V2 flavour) and
``routes``. Everything is generated from ``service.families``: nothing here names a family.
"""
