"""Baton's infrastructure as CDK constructs: one per component, composed by two stacks.

`stateful` holds the tables; `stateless` holds the queues, functions, API, schedule and
monitoring and receives the tables as arguments. Grants are made in the stack, where a function
meets a table or a queue.
"""
