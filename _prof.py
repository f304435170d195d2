import os, time, sys, uuid
os.environ["SECRET_KEY"]="x"
from bench import load
admin="postgresql+psycopg://postgres@127.0.0.1/postgres"
name="gufei_load_prof"
load.drop_database(admin,name)
url=load.create_database(admin,name)
print(load.seed(url,100000))
