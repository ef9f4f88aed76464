"""Answering: retrieve, the offline answerer, the LLM designs and the local server, verification, the pipeline.

    retrieve       dense and BM25 search fused by reciprocal rank; a two-part question split
    extractive     the offline answerer: sentences scored, the best picked, or a refusal
    answer_types   what a question asks for (a number, a year, a name, a cause, ...)
    generate       the Generator protocol and its Draft
    llm            an OpenAI-compatible model as a generator
    designs        the LLM designs: evidence-first and judge
    local_server   the bundled local model, assembled and served by llama.cpp
    verify         each sentence checked against the paragraph it cites
    prompts        prompt templates filled from prompts/
    pipeline       question -> split -> retrieve -> generate -> verify -> Answer: the one call the edges make
"""
