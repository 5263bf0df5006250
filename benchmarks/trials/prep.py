import os, sys, time, torch
os.environ.setdefault("MMGRAPH_DATA", "/work/shared/data")
from mmgraph.tasks import get_task
from mmgraph.datasets import load
from mmgraph.data import split_dataset
from mmgraph.pipeline import encode_dataset, prepare_task
from mmgraph.graph import GraphBuilder

def prep(name, seed=0, k=10):
    task = get_task(name)
    ds = load(task.dataset, **task.dataset_options)
    ds = task.make_dataset(ds, seed)
    split = split_dataset(ds, seed=seed, **task.split)
    feats, enc = encode_dataset(ds, split, encoders=task.encoders, progress=False, task=task)
    return prepare_task(task, ds, seed=seed, features=feats, builder=GraphBuilder(k=k), split=split)
