# The tutorial's R client, as published, with two changes: the API's URL and the CSV's path come from the
# command line (Rscript tutorial_client.R URL CSV). It samples 500 test images of the digit 2, posts them
# in one request with httr's JSON encoding, and tables how many were predicted right.
library(httr)
library(tidyverse)

args <- commandArgs(trailingOnly = TRUE)
api_url <- args[1]
csv_path <- args[2]

# Read in the MNIST test dataset
test <- read_csv(csv_path, col_names = FALSE)

# Rename the first column to name and add id
test <- test %>%
  rename(labels = X1) %>%
  mutate(ids = 1:nrow(.)) %>%
  select(ids, labels, everything())

# Pick one digit and sample n_samples of it to get prediction for
digit <- 2L
n_samples <- 500

test_filtered <- test %>%
  filter(labels == digit) %>%
  sample_n(n_samples)

ids <- test_filtered$ids
labels <- test_filtered$labels

features <- test_filtered %>%
  select(matches("X\\d{1,3}")) %>%
  as.matrix()

body <- list(input = features)
r <- httr::POST(paste0(api_url, "/predict"),
                body = body,
                encode = "json")
r_content <- content(r)

prediction_prob <- r_content %>%
  map(~ unlist(.x)) %>%
  unlist()

df <- data_frame(
  prediction_prob,
  digit,
  ids = ids %>%
    map(~ rep(.x, 10)) %>%
    unlist()
  ) %>%
  group_by(ids) %>%
  mutate(
    is_max_prob = prediction_prob == max(prediction_prob),
    pred_label = as.integer(row_number() - 1)
  ) %>%
  ungroup()

df %>%
  filter(is_max_prob) %>%
  mutate(is_correct_prediction = digit == pred_label) %>%
  pull(is_correct_prediction) %>%
  table()
